#pragma once
// Untrusted text (test names, error messages, captured output, paths) made safe for each output
// kind. A test name is whatever the user's suite says it is, and flakescope prints it to CI logs,
// pull-request comments, HTML pages and JUnit files that strict parsers read:
//   terminal  control characters (C0, DEL, C1, bidi overrides) escaped as \xNN / \u{NNNN}, so an
//             ANSI or OSC sequence cannot recolor, retitle or clear the screen;
//   Markdown  control characters removed, table (|) and Markdown/HTML metacharacters escaped, so a
//             name cannot break a table or inject HTML into a comment;
//   HTML      control characters removed, then the usual &, <, >, ", ' escaping;
//   JUnit     characters XML 1.0 forbids removed (C0 except tab/newline/CR, U+FFFE, U+FFFF); the
//             XML writer escapes the rest.
// Invalid UTF-8 bytes become \xNN (terminal) or U+FFFD (documents).
#include <string>
#include <string_view>

namespace flakescope::report {

std::string sanitize_terminal(std::string_view text);

// Text in a Markdown paragraph or table cell.
std::string sanitize_markdown(std::string_view text);
// A Markdown code span (`name`) in a table: a fence longer than any backtick run inside, | escaped.
std::string markdown_code(std::string_view text);

// Text or an attribute value in HTML: escaped as well as cleaned.
std::string sanitize_html(std::string_view text);

// Text for an XML 1.0 document, before the XML writer escapes it.
std::string sanitize_xml(std::string_view text);

}  // namespace flakescope::report
