// Lowercase hex encoding and strict decoding.
#ifndef HANSHIRO_BASE_HEX_H_
#define HANSHIRO_BASE_HEX_H_

#include <string>
#include <string_view>

namespace hanshiro {

std::string HexEncode(std::string_view bytes);
// Value of one hex digit (either case), or -1.
int HexDigitValue(char c);
// Decodes an even number of hex digits into out; false on any other input.
bool HexDecode(std::string_view hex, std::string* out);

}  // namespace hanshiro

#endif  // HANSHIRO_BASE_HEX_H_
