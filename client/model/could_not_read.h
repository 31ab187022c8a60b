// Telling the author what this device could not show (docs/protocol.md
// §7.6): a partner's record that authenticates but breaks the rules, or
// comes from a newer duet, is kept and not shown; the author would otherwise
// never learn why their words did not arrive. The reader answers it with one
// CouldNotRead record, and the author's device says it once.
//
// Pure: values in, values out. Safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "client/model/fold.h"

namespace duet::model {

// The CouldNotRead bodies this device owes its partner: one for each of the
// partner's shared records it holds but cannot show and has not answered
// yet. Never one about a CouldNotRead (two devices that cannot read each
// other's notices would otherwise answer each other for ever).
std::vector<v1::RecordBody> CouldNotReadOwed(const std::vector<OpenedRecord>& records,
                                             const std::string& my_key);

// One line for each of the partner's notices about a record of mine, in the
// order they were written: "Bob's duet could not read your record #3: mood 9
// is out of range 1-5". Notices naming a record that is not mine are
// ignored. The reason is the partner's text: the caller makes it safe for a
// terminal.
std::vector<std::string> CouldNotReadByPartner(const std::vector<OpenedRecord>& records,
                                               const std::string& my_key, const std::string& partner_name);

}  // namespace duet::model
