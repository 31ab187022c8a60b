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
  // Read with read(2) into a fixed, locked buffer: stdio's buffer and a
  // std::string that grows would each leave unwiped copies behind.
  crypto::Secret<1024> buffer;
  std::size_t length = 0;
  bool ended = false;
  while (length < buffer.size()) {
    char c = 0;
    if (::read(STDIN_FILENO, &c, 1) != 1) break;
    if (c == '\n') {
      ended = true;
      break;
    }
    buffer.data()[length++] = static_cast<unsigned char>(c);
  }
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);  // also drops what was typed past the limit
  std::fprintf(stderr, "\n");
  if (!ended && length == buffer.size()) {
    std::fprintf(stderr, "duet: the passphrase is over %zu bytes; use a shorter one\n", buffer.size() - 1);
    return std::nullopt;
  }
  std::string_view line(reinterpret_cast<const char*>(buffer.data()), length);
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
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
