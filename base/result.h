// Status and Result<T>: errors as values at module boundaries.
//
// A Status is either ok or carries an Error: a machine-readable code and a
// one-line human message (never a key or a record's content). Result<T> holds
// a T or an Error. Both are plain values: copyable, and safe to use from any
// thread as long as a single object is not written from two threads at once.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace duet {

enum class ErrorKind {
  kInvalidInput,  // the caller gave something malformed: flag, code, frame
  kNotFound,
  kAlreadyExists,
  kIo,            // file system or database
  kDamaged,       // a file on disk is damaged: left as it is, never overwritten
  kNetwork,       // could not reach or lost the relay
  kProtocol,      // the peer broke the protocol
  kVerification,  // a signature, MAC or pinned key did not match
  kRefused,       // the relay said no (see message)
  kInternal,
};

struct Error {
  ErrorKind kind;
  std::string message;
};

class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  static Status Ok() { return {}; }
  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }
  const std::string& message() const { return error_->message; }

 private:
  std::optional<Error> error_;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT
  Result(Error error) : value_(std::move(error)) {}    // NOLINT

  bool ok() const { return std::holds_alternative<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T& value() & { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  const Error& error() const { return std::get<Error>(value_); }
  Status status() const { return ok() ? Status::Ok() : Status(error()); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Error> value_;
};

inline Error MakeError(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

}  // namespace duet

// Returns early with the error of an expression yielding Status or Result.
#define DUET_RETURN_IF_ERROR(expr)                     \
  do {                                                 \
    auto duet_status_ = (expr);                        \
    if (!duet_status_.ok()) return duet_status_.error(); \
  } while (0)
