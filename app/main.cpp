// main.cpp — the `hearthnet` executable: everything is in the cli layer.
#include "cli/cli.h"

int main(int argc, char** argv) { return hn::cli::run(argc, argv); }
