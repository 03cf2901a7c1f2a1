// Terminal and Markdown renderings of one TextTable (see text_table.h).
#include "report/text_table.h"

#include <algorithm>

#include "report/sanitize.h"

namespace flakescope::report {
namespace {

// Display width: count UTF-8 code points, not bytes, so "±" and "…" line up.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string pad(const std::string& s, std::size_t width, Align align) {
  const std::size_t w = display_width(s);
  if (w >= width) return s;
  const std::string fill(width - w, ' ');
  return align == Align::kLeft ? s + fill : fill + s;
}

// Cells carry untrusted text (test names, messages): table and HTML metacharacters escaped.
std::string escape_markdown_cell(const std::string& s) {
  return sanitize_markdown(s);
}

Align align_of(const TextTable& t, std::size_t col) {
  return col < t.align.size() ? t.align[col] : Align::kLeft;
}

// The last `keep` code points of `s`, after "…".
std::string keep_tail(const std::string& s, std::size_t keep) {
  std::size_t i = s.size(), seen = 0;
  while (i > 0 && seen < keep) {
    --i;
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++seen;
  }
  return "…" + s.substr(i);
}

}  // namespace

void fit_width(TextTable& t, std::size_t column, std::size_t max_width, std::size_t indent) {
  if (column >= t.header.size()) return;
  std::vector<std::size_t> width(t.header.size(), 0);
  for (std::size_t c = 0; c < t.header.size(); ++c) width[c] = display_width(t.header[c]);
  for (const auto& row : t.rows)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c].text));
  std::size_t total = indent + 2 * (t.header.size() - 1);
  for (std::size_t w : width) total += w;
  if (total <= max_width) return;
  const std::size_t others = total - width[column];
  // Keep at least a dozen characters of the column: the end of a test id names the test.
  const std::size_t room = std::max<std::size_t>(12, max_width > others ? max_width - others : 0);
  for (auto& row : t.rows)
    if (column < row.size() && display_width(row[column].text) > room)
      row[column].text = keep_tail(row[column].text, room - 1);
}

std::string paint(const std::string& text, Tone tone, bool color) {
  if (!color || tone == Tone::kPlain) return text;
  const char* code = tone == Tone::kGood   ? "\x1b[32m"
                     : tone == Tone::kBad  ? "\x1b[1;31m"
                     : tone == Tone::kWarn ? "\x1b[33m"
                                           : "\x1b[2m";
  return code + text + "\x1b[0m";
}

std::string render_aligned(const TextTable& raw, const std::string& indent, bool color) {
  // Cells carry untrusted text (test names, messages): no escape sequence reaches the terminal.
  TextTable t = raw;
  for (auto& h : t.header) h = sanitize_terminal(h);
  for (auto& row : t.rows)
    for (auto& cell : row) cell.text = sanitize_terminal(cell.text);
  std::vector<std::size_t> width(t.header.size(), 0);
  for (std::size_t c = 0; c < t.header.size(); ++c) width[c] = display_width(t.header[c]);
  for (const auto& row : t.rows)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c].text));
  std::string out;
  auto line = [&](auto cell_text, auto cell_tone, std::size_t n) {
    std::string l = indent;
    for (std::size_t c = 0; c < n; ++c) {
      if (c) l += "  ";
      // The last left-aligned column is not padded: no trailing blanks.
      const bool last = c + 1 == n;
      std::string text = last && align_of(t, c) == Align::kLeft
                             ? cell_text(c)
                             : pad(cell_text(c), width[c], align_of(t, c));
      l += paint(text, cell_tone(c), color);
    }
    out += l + "\n";
  };
  line([&](std::size_t c) { return t.header[c]; }, [](std::size_t) { return Tone::kDim; },
       t.header.size());
  for (const auto& row : t.rows)
    line([&](std::size_t c) { return row[c].text; }, [&](std::size_t c) { return row[c].tone; },
         std::min(row.size(), width.size()));
  return out;
}

std::string render_markdown_table(const TextTable& t) {
  std::string out = "|";
  for (const auto& h : t.header) out += " " + escape_markdown_cell(h) + " |";
  out += "\n|";
  for (std::size_t c = 0; c < t.header.size(); ++c)
    out += align_of(t, c) == Align::kRight ? "---:|" : ":---|";
  out += "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (std::size_t c = 0; c < t.header.size(); ++c)
      out += " " + escape_markdown_cell(c < row.size() ? row[c].text : "") + " |";
    out += "\n";
  }
  return out;
}

}  // namespace flakescope::report
