#pragma once

// Text output of the tool: terminal tables that hold their columns with any script (Arabic, CJK, emoji), and RFC 4180
// CSV. Every cell may be hostile: control characters never reach the terminal raw, and right-to-left text or bidi
// controls in one cell cannot reorder its neighbours.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace avow::tool {

enum class Align { left, right };

struct Table {
  std::vector<std::string> headers;             // may be empty: then no header line
  std::vector<std::vector<std::string>> rows;   // UTF-8 cells; a short row is padded with empty cells
  std::vector<Align> align;                     // per column; a column without an entry is left-aligned
};

// Return the display width (terminal columns) of UTF-8 `s`: East Asian Wide and Fullwidth characters count 2;
// nonspacing and enclosing marks (Mn, Me), format characters (Cf: ZWJ, ZWNJ, bidi marks and controls) and control
// characters count 0; everything else (Arabic letters included) counts 1. Each ill-formed UTF-8 sequence counts 1 (it
// is shown as U+FFFD). Widths add up per code point: an emoji ZWJ sequence counts the sum of its parts.
std::size_t display_width(std::string_view s);

// Render `t` as a text table, one line per row (header line first), each line ending in "\n", columns separated by
// two spaces, no trailing spaces. When the natural widths do not fit in `width` columns, the widest columns shrink
// first and a cell that is too wide is cut at a grapheme boundary and ends in "…". Inside cells, tab, CR and LF
// become spaces, other control characters become their visible pictures (U+2400 block) or U+FFFD, and ill-formed
// UTF-8 becomes U+FFFD. A cell with right-to-left or Arabic-number characters or explicit bidi controls is wrapped
// in U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE (after balancing the isolates it opens or closes
// itself), with the padding outside, so bidi reordering stays inside its column. Every line fits in `width` unless
// the columns cannot fit at one column each.
std::string render_table(const Table& t, std::size_t width);

// Render `t` as RFC 4180 CSV: header record first (when there are headers), CRLF after every record, every record
// with the same number of fields; a field with '"', ',', CR or LF is quoted and its quotes doubled. Cells are
// written byte for byte (no formula escaping: the data is evidence).
std::string render_csv(const Table& t);

// Return `s` fit for one line of terminal text, as a table cell is made: line breaks and tabs become spaces, other
// control characters their visible pictures (U+2400 block) or U+FFFD, ill-formed UTF-8 U+FFFD, and text with
// right-to-left characters or bidi controls is wrapped in FSI ... PDI (its own isolates balanced) so that it cannot
// reorder what follows it on the line.
std::string terminal_field(std::string_view s);

// Return the width tables are cut to on stdout: the terminal's width (terminal_width()) when stdout is a terminal;
// when it is a file or a pipe, no limit (SIZE_MAX): cells are never cut there.
std::size_t output_width();

// Return the width of the terminal on stdout (ioctl TIOCGWINSZ) when it is one, else $COLUMNS when it is a positive
// number, else 120.
std::size_t terminal_width();

} // namespace avow::tool
