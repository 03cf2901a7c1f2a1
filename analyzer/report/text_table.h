#pragma once
// One table model for the terminal and Markdown reporters (hyperfine-style: a new text table format
// is one more render function over the same rows).
#include <string>
#include <vector>

namespace flakescope::report {

enum class Align { kLeft, kRight };
enum class Tone { kPlain, kGood, kBad, kWarn, kDim };  // colors, when the format has them

struct Cell {
  std::string text;
  Tone tone = Tone::kPlain;
};

struct TextTable {
  std::vector<std::string> header;
  std::vector<Align> align;  // one per column
  std::vector<std::vector<Cell>> rows;

  void add_row(std::vector<Cell> row) { rows.push_back(std::move(row)); }
};

// Space-aligned columns, each line prefixed by `indent`; ANSI colors by tone when `color`.
std::string render_aligned(const TextTable& table, const std::string& indent, bool color);

// Shortens the cells of `column` (keeping their end, after "…") so that render_aligned() lines
// with `indent` characters of indent fit in `max_width` columns.
void fit_width(TextTable& table, std::size_t column, std::size_t max_width, std::size_t indent = 0);

// A GitHub-flavored Markdown table (pipes in cells escaped).
std::string render_markdown_table(const TextTable& table);

// "\x1b[31m" + text + "\x1b[0m" for the tone, or text unchanged when !color.
std::string paint(const std::string& text, Tone tone, bool color);

}  // namespace flakescope::report
