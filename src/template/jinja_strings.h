// Python str operations over UTF-8 for tuna's Jinja engine (our own; see jinja_value.h):
// whitespace is str.isspace's, indices count code points.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tuna::jinja {

// str.split / str.rsplit (sep null: runs of whitespace, no empty parts).
std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit,
                                  bool from_right);
// str.strip (mode 3), lstrip (1), rstrip (2); chars null: whitespace.
std::string py_strip(const std::string& s, const std::string* chars, int mode);
// str.upper / lower / title / capitalize / swapcase.
std::string py_case(const std::string& s, const std::string& which);
// str.replace(old, new, count).
std::string py_replace(const std::string& s, const std::string& old_s, const std::string& new_s,
                       int64_t count);
// str.splitlines(keepends).
std::vector<std::string> py_splitlines(const std::string& s, bool keepends);
// str.isdigit / isalpha / isalnum / isspace / islower / isupper / isnumeric / isdecimal.
bool py_is(const std::string& s, const std::string& which);

}  // namespace tuna::jinja
