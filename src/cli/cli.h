// Command-line parsing (the only file that includes CLI11).
#ifndef GROUNDCAP_CLI_H_
#define GROUNDCAP_CLI_H_

namespace groundcap {

/// Parses argv, runs the chosen subcommand and returns the exit code.
int RunCli(int argc, char** argv);

}  // namespace groundcap

#endif  // GROUNDCAP_CLI_H_
