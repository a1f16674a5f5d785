#ifndef NAS_MCU_CODEGEN_LIBRARY_PARTS_H_
#define NAS_MCU_CODEGEN_LIBRARY_PARTS_H_

// The pieces of GenerateCLibrary (c_library.h), one function per generated
// file, over a model that has already been checked. Internal to
// mcu/codegen.

#include <string>
#include <vector>

#include "mcu/model_tables.h"
#include "proto/nas.pb.h"

namespace nas::mcu {

// A checked model and what the files are written from. Borrows `model`.
struct LibraryInputs {
  const v1::QuantizedModel* model = nullptr;
  ModelTables tables;
  // The architecture's layers as ArchitectureToString tokens, by index
  // ("CONV2D(8,k3,s1,p1)"); for comments only.
  std::vector<std::string> arch_layers;
  // Paths of the runtime files in the library ("runtime/tinynas_runtime.c").
  std::vector<std::string> runtime_paths;
  int num_test_vectors = 0;
};

// model_files.cc
std::string ModelHeader(const LibraryInputs& in);
std::string ModelSource(const LibraryInputs& in);

// example_files.cc
std::string TestVectorsHeader(const LibraryInputs& in);
std::string ExampleMain(const LibraryInputs& in);
std::string CMakeFile(const LibraryInputs& in);
std::string Readme(const LibraryInputs& in);

// A label for class `i`: the model's name for it, else "class i".
std::string ClassLabel(const v1::QuantizedModel& model, int i);

}  // namespace nas::mcu

#endif  // NAS_MCU_CODEGEN_LIBRARY_PARTS_H_
