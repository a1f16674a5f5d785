#ifndef NAS_NASCTL_HTML_H_
#define NAS_NASCTL_HTML_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace nas::nasctl {

// `text` with & < > " ' replaced by character references, safe in HTML
// (and SVG) text and in quoted attribute values.
std::string EscapeHtml(absl::string_view text);

// "<dt>term</dt><dd>description</dd>", both escaped, for a <dl>.
std::string HtmlDefinition(absl::string_view term, absl::string_view description);

// An HTML <table> built row by row. Every cell is plain text and is escaped
// on Render(); right-aligned columns get class "num". Value type; not
// thread-safe.
class HtmlTable {
 public:
  struct Column {
    std::string header;
    bool numeric = false;  // Right-aligned, tabular figures.
  };

  // `css_class` goes on the <table> element (may be empty).
  HtmlTable(std::string css_class, std::vector<Column> columns);

  // `cells` must have one entry per column (missing ones print empty, extra
  // ones are dropped). `row_class`, when set, goes on the <tr>.
  void AddRow(std::vector<std::string> cells, absl::string_view row_class = "");
  size_t num_rows() const { return rows_.size(); }

  std::string Render() const;

 private:
  struct Row {
    std::vector<std::string> cells;
    std::string css_class;
  };
  std::string css_class_;
  std::vector<Column> columns_;
  std::vector<Row> rows_;
};

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_HTML_H_
