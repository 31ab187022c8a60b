// Passphrases: from DUET_PASSPHRASE (scripts) or a terminal prompt with echo off.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

std::optional<std::string> Prompt(const char* question) {
  if (!isatty(STDIN_FILENO)) return std::nullopt;
  std::fprintf(stderr, "%s", question);
  std::fflush(stderr);
  termios saved{};
  tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  // Read into a fixed, locked buffer: a std::string read a character at a
  // time grows, leaving unwiped copies of the passphrase behind.
  crypto::Secret<1024> buffer;
  char* read = std::fgets(reinterpret_cast<char*>(buffer.data()), static_cast<int>(buffer.size()), stdin);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::fprintf(stderr, "\n");
  if (read == nullptr) return std::nullopt;
  std::string_view line(read);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return std::string(line);
}

}  // namespace

std::optional<std::string> ReadPassphrase(bool confirm) {
  if (const char* env = std::getenv("DUET_PASSPHRASE"); env != nullptr) return std::string(env);
  auto first = Prompt("passphrase: ");
  if (!first || !confirm) return first;
  auto second = Prompt("the same passphrase again: ");
  if (!second || *second != *first) {
    crypto::WipeString(*first);
    if (second) crypto::WipeString(*second);
    return std::string();  // a mismatch is reported as an empty passphrase
  }
  crypto::WipeString(*second);
  return first;
}

Result<std::string> NewPassphrase() {
  auto passphrase = ReadPassphrase(/*confirm=*/true);
  if (!passphrase)
    return MakeError(ErrorKind::kInvalidInput,
                     "no passphrase given: set DUET_PASSPHRASE or run duet in a terminal");
  if (passphrase->empty())
    return MakeError(ErrorKind::kInvalidInput,
                     "the passphrase is empty or the two entries differ; try again");
  return std::move(*passphrase);
}

}  // namespace duet::client::cli
