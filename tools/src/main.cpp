#include "Cli.hpp"

int main(int argc, char** argv) { return fedswarm::cli::run(argc, argv); }
