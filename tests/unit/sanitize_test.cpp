// The output-kind sanitizers: what a hostile test name becomes in each output.
#include "report/sanitize.h"

#include <gtest/gtest.h>

#include <string>

namespace flakescope::report {
namespace {

const std::string kAnsi = "test_\x1b[31mred\x1b[0m";
const std::string kOscTitle = "t\x1b]0;pwned\x07";
const std::string kClear = "t\x1b[2J\x1b[H";
const std::string kC1Csi =
    "t\xc2\x9b"
    "31m";  // U+009B, the one-byte CSI
const std::string kBidi =
    "t\xe2\x80\xae"
    "gpj.exe";  // U+202E right-to-left override

bool has_byte_below_0x20(const std::string& s, bool allow_whitespace) {
  for (unsigned char c : s)
    if (c < 0x20 && !(allow_whitespace && (c == '\n' || c == '\t' || c == '\r'))) return true;
  return false;
}

TEST(SanitizeTerminal, EscapesAnsiOscAndClearSequences) {
  EXPECT_EQ(sanitize_terminal(kAnsi), "test_\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(sanitize_terminal(kOscTitle), "t\\x1b]0;pwned\\x07");
  EXPECT_FALSE(has_byte_below_0x20(sanitize_terminal(kClear), false));
  EXPECT_EQ(sanitize_terminal("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(sanitize_terminal(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(sanitize_terminal("del\x7f"), "del\\x7f");
}

TEST(SanitizeTerminal, EscapesC1AndBidiControlsAndInvalidUtf8) {
  EXPECT_EQ(sanitize_terminal(kC1Csi), "t\\u{009b}31m");
  EXPECT_EQ(sanitize_terminal(kBidi), "t\\u{202e}gpj.exe");
  EXPECT_EQ(sanitize_terminal("bad\xff\xfe"), "bad\\xff\\xfe");
  EXPECT_EQ(sanitize_terminal("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(sanitize_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(sanitize_terminal("trunc\xe2\x82"), "trunc\\xe2\\x82");
}

TEST(SanitizeTerminal, KeepsPrintableTextAndUnicode) {
  EXPECT_EQ(sanitize_terminal("tests/test_a.py::test_x[1-2] ± 3 µs … 日本"),
            "tests/test_a.py::test_x[1-2] ± 3 µs … 日本");
  EXPECT_EQ(sanitize_terminal("a\\b"), "a\\\\b");  // unambiguous: \x1b in a name stays visible
  EXPECT_EQ(sanitize_terminal(""), "");
}

TEST(SanitizeMarkdown, EscapesTableAndHtmlMetacharacters) {
  EXPECT_EQ(sanitize_markdown("a|b"), "a\\|b");
  EXPECT_EQ(sanitize_markdown("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;");
  EXPECT_EQ(sanitize_markdown("a & b"), "a &amp; b");
  EXPECT_EQ(sanitize_markdown("*bold* _it_ `code` [l](u) #h ~s~ !"),
            "\\*bold\\* \\_it\\_ \\`code\\` \\[l\\](u) \\#h \\~s\\~ \\!");
  EXPECT_EQ(sanitize_markdown("line1\nline2|x"), "line1 line2\\|x");
}

TEST(SanitizeMarkdown, RemovesControlCharacters) {
  EXPECT_EQ(sanitize_markdown(kAnsi), "test\\_\\[31mred\\[0m");
  EXPECT_FALSE(has_byte_below_0x20(sanitize_markdown(kOscTitle + kClear), false));
  EXPECT_EQ(sanitize_markdown("bad\xff"), "bad\xef\xbf\xbd");
  EXPECT_EQ(sanitize_markdown(kBidi), "tgpj.exe");
}

TEST(SanitizeMarkdown, CodeSpansSurviveBackticksAndPipes) {
  EXPECT_EQ(markdown_code("name"), "`name`");
  EXPECT_EQ(markdown_code("a`b"), "``a`b``");
  EXPECT_EQ(markdown_code("``x"), "``` ``x ```");
  EXPECT_EQ(markdown_code("a|b"), "`a\\|b`");
  EXPECT_EQ(markdown_code("e\x1b[2Jx"), "`e[2Jx`");
}

TEST(SanitizeHtml, EscapesAndRemovesControls) {
  EXPECT_EQ(sanitize_html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(sanitize_html(kAnsi), "test_[31mred[0m");
  EXPECT_EQ(sanitize_html(std::string("nul\0x\x01\x7f", 7)), "nulx");
  EXPECT_EQ(sanitize_html(kC1Csi), "t31m");
  EXPECT_EQ(sanitize_html("a\nb"), "a b");
  EXPECT_EQ(sanitize_html("\xff"), "\xef\xbf\xbd");
}

TEST(SanitizeXml, RemovesWhatXml10Forbids) {
  EXPECT_EQ(sanitize_xml(kAnsi), "test_[31mred[0m");
  EXPECT_EQ(sanitize_xml(std::string("a\0b\x01\x08\x0b\x0c\x1f", 8)), "ab");
  EXPECT_EQ(sanitize_xml("tab\tnl\ncr\r"), "tab\tnl\ncr\r");    // allowed in XML 1.0
  EXPECT_EQ(sanitize_xml("x\xef\xbf\xbe\xef\xbf\xbfy"), "xy");  // U+FFFE, U+FFFF
  EXPECT_EQ(sanitize_xml("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(sanitize_xml("<&> stay for the writer"), "<&> stay for the writer");
  EXPECT_EQ(sanitize_xml("é 日本 \xf0\x9f\x98\x80"), "é 日本 \xf0\x9f\x98\x80");
}

// Every byte value alone: no output kind lets a C0 control through (terminal and HTML), and the
// XML output holds only XML 1.0 characters.
TEST(SanitizeAllKinds, NoSingleByteEscapes) {
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_FALSE(has_byte_below_0x20(sanitize_terminal(s), false)) << b;
    EXPECT_FALSE(has_byte_below_0x20(sanitize_markdown(s), false)) << b;
    EXPECT_FALSE(has_byte_below_0x20(sanitize_html(s), false)) << b;
    EXPECT_FALSE(has_byte_below_0x20(sanitize_xml(s), true)) << b;
    EXPECT_EQ(sanitize_html(s).find('<'), std::string::npos) << b;
  }
}

}  // namespace
}  // namespace flakescope::report
