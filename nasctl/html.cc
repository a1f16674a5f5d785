#include "nasctl/html.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace nas::nasctl {

std::string EscapeHtml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string HtmlDefinition(absl::string_view term, absl::string_view description) {
  return absl::StrCat("<dt>", EscapeHtml(term), "</dt><dd>", EscapeHtml(description), "</dd>");
}

HtmlTable::HtmlTable(std::string css_class, std::vector<Column> columns)
    : css_class_(std::move(css_class)), columns_(std::move(columns)) {}

void HtmlTable::AddRow(std::vector<std::string> cells, absl::string_view row_class) {
  cells.resize(columns_.size());
  rows_.push_back({std::move(cells), std::string(row_class)});
}

std::string HtmlTable::Render() const {
  std::string out = css_class_.empty()
                        ? std::string("<table>\n<thead><tr>")
                        : absl::StrCat("<table class=\"", EscapeHtml(css_class_),
                                       "\">\n<thead><tr>");
  for (const Column& column : columns_) {
    absl::StrAppend(&out, column.numeric ? "<th class=\"num\">" : "<th>",
                    EscapeHtml(column.header), "</th>");
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const Row& row : rows_) {
    out += row.css_class.empty()
               ? std::string("<tr>")
               : absl::StrCat("<tr class=\"", EscapeHtml(row.css_class), "\">");
    for (size_t c = 0; c < columns_.size(); ++c) {
      absl::StrAppend(&out, columns_[c].numeric ? "<td class=\"num\">" : "<td>",
                      EscapeHtml(row.cells[c]), "</td>");
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

}  // namespace nas::nasctl
