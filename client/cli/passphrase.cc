// Passphrases: from the environment (scripts) or a terminal prompt with echo
// off; a new one must not be weak, and a person who mistypes is asked again.
#include <pwquality.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr int kTries = 3;
constexpr int kMinimumLength = 10;

std::optional<std::string> Prompt(const char* question) {
  if (!isatty(STDIN_FILENO)) return std::nullopt;
  // Echo off (dropping anything typed ahead) before the question shows, as
  // getpass(3) does: what is typed after it is never echoed or dropped.
  termios saved{};
  tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::fprintf(stderr, "%s", question);
  std::fflush(stderr);
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

std::optional<std::string> FromEnvironment(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// libpwquality's words, in duet's: "The password is shorter than 10
// characters" -> "it is shorter than 10 characters".
std::string InDuetWords(std::string message) {
  const std::string lead = "The password ";
  if (message.rfind(lead, 0) == 0) message = "it " + message.substr(lead.size());
  for (std::size_t at = message.find("password"); at != std::string::npos; at = message.find("password", at))
    message.replace(at, 8, "passphrase");
  return message;
}

}  // namespace

std::optional<std::string> ReadPassphrase() {
  if (auto env = FromEnvironment("DUET_PASSPHRASE")) return env;
  return Prompt("passphrase: ");
}

std::optional<std::string> PassphraseWeakness(const std::string& passphrase, const std::string& name) {
  // The built-in rules, not /etc/security/pwquality.conf, so a machine's
  // settings cannot weaken them (the dictionary is the one cracklib-runtime
  // built from the word lists installed).
  pwquality_settings_t* settings = pwquality_default_settings();
  if (settings == nullptr) return std::nullopt;
  pwquality_set_int_value(settings, PWQ_SETTING_MIN_LENGTH, kMinimumLength);
  void* detail = nullptr;
  const int score = pwquality_check(settings, passphrase.c_str(), nullptr, name.c_str(), &detail);
  std::optional<std::string> weakness;
  if (score < 0) {
    char buffer[PWQ_MAX_ERROR_MESSAGE_LEN];
    weakness = InDuetWords(pwquality_strerror(buffer, sizeof buffer, score, detail));
  }
  pwquality_free_settings(settings);
  return weakness;
}

Result<std::string> NewPassphrase(const std::string& name, const char* variable) {
  const std::string advice = "; a few unrelated words make a strong one";
  if (auto env = FromEnvironment(variable)) {
    if (auto weak = PassphraseWeakness(*env, name)) {
      crypto::WipeString(*env);
      return MakeError(ErrorKind::kInvalidInput, std::string("the passphrase in ") + variable +
                                                     " is too weak: " + *weak + advice);
    }
    return std::move(*env);
  }
  if (!isatty(STDIN_FILENO))
    return MakeError(ErrorKind::kInvalidInput,
                     std::string("no passphrase given: set ") + variable + " or run duet in a terminal");
  for (int attempt = 1; attempt <= kTries; ++attempt) {
    auto first = Prompt("new passphrase: ");
    if (!first) break;
    if (auto weak = PassphraseWeakness(*first, name)) {
      crypto::WipeString(*first);
      std::fprintf(stderr, "duet: too weak: %s%s; try another\n", weak->c_str(), advice.c_str());
      continue;
    }
    auto second = Prompt("the same passphrase again: ");
    if (second && *second == *first) {
      crypto::WipeString(*second);
      return std::move(*first);
    }
    crypto::WipeString(*first);
    if (second) crypto::WipeString(*second);
    std::fprintf(stderr, "duet: the two entries differ; once more\n");
  }
  return MakeError(ErrorKind::kInvalidInput,
                   "no passphrase set after " + std::to_string(kTries) + " tries; nothing was changed");
}

}  // namespace duet::client::cli
