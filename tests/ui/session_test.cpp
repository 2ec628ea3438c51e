// session_test.cpp — the dashboard's session token rules (ui/session.h): the token opens a
// session once (redirect + HttpOnly cookie), the cookie admits, anything else is refused.
#include "ui/session.h"

#include <gtest/gtest.h>

namespace hn::ui {
namespace {

TEST(UiSession, TokensAreLongRandomAndDistinct) {
  std::string a = new_session_token();
  std::string b = new_session_token();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
}

TEST(UiSession, TokenMatchIsExact) {
  EXPECT_TRUE(token_matches("abc", "abc"));
  EXPECT_FALSE(token_matches("abd", "abc"));
  EXPECT_FALSE(token_matches("ab", "abc"));
  EXPECT_FALSE(token_matches("", ""));
  EXPECT_FALSE(token_matches("abc", ""));
}

TEST(UiSession, CookieValueFindsTheNamedCookie) {
  EXPECT_EQ(cookie_value("a=1; hn_ui=tok; b=2", "hn_ui"), "tok");
  EXPECT_EQ(cookie_value("hn_ui=\"tok\"", "hn_ui"), "tok");
  EXPECT_EQ(cookie_value("xhn_ui=tok", "hn_ui"), std::nullopt);
  EXPECT_EQ(cookie_value("", "hn_ui"), std::nullopt);
  EXPECT_EQ(cookie_value(";;=;hn_ui", "hn_ui"), std::nullopt);
}

TEST(UiSession, QueryValueDecodesAndIgnoresOthers) {
  EXPECT_EQ(query_value("/?token=abc", "token"), "abc");
  EXPECT_EQ(query_value("/mobile?x=1&token=a%2Db#frag", "token"), "a-b");
  EXPECT_EQ(query_value("/?tokenx=abc", "token"), std::nullopt);
  EXPECT_EQ(query_value("/?token=%zz", "token"), std::nullopt);  // broken escape
  EXPECT_EQ(query_value("/", "token"), std::nullopt);
}

TEST(UiSession, RedirectDropsOnlyTheToken) {
  EXPECT_EQ(target_without_token("/?token=abc"), "/");
  EXPECT_EQ(target_without_token("/mobile?token=abc&x=1"), "/mobile?x=1");
  EXPECT_EQ(target_path("/a/b?c=d#e"), "/a/b");
}

TEST(UiSession, AdmitNeedsTheCookieOrTheToken) {
  const std::string t = "secret-token";
  EXPECT_EQ(admit("/", "hn_ui=secret-token", t), Admission::allowed);
  EXPECT_EQ(admit("/?token=secret-token", "", t), Admission::redirect_with_cookie);
  EXPECT_EQ(admit("/", "", t), Admission::refused);
  EXPECT_EQ(admit("/?token=wrong", "hn_ui=wrong", t), Admission::refused);
  EXPECT_EQ(admit("/api/session", "other=secret-token", t), Admission::refused);
}

TEST(UiSession, CookieIsHttpOnlyAndStrict) {
  std::string c = session_cookie("tok");
  EXPECT_NE(c.find("hn_ui=tok"), std::string::npos);
  EXPECT_NE(c.find("HttpOnly"), std::string::npos);
  EXPECT_NE(c.find("SameSite=Strict"), std::string::npos);
}

}  // namespace
}  // namespace hn::ui
