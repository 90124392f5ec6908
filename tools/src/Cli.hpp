// The `fedswarm` command line: parses arguments (CLI11) and dispatches to one command.
#pragma once

namespace fedswarm::cli {
int run(int argc, char** argv);
}
