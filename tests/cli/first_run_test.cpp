// first_run_test.cpp — the create-or-join dialogue of `hearthnet init` (M13 first run on
// the terminal), driven through injected streams instead of a terminal.
#include "cli/first_run.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/prompt.h"
#include "support/test_support.h"

namespace hn {
namespace {

struct Dialogue {
  std::istringstream in;
  std::ostringstream out;
  explicit Dialogue(std::string input) : in(std::move(input)) {}
};

cli::FirstRunQuestions questions() {
  cli::FirstRunQuestions q;
  q.default_name = "kitchen";
  q.id_card = [] { return Result<std::string>(std::string("hearthnet-id://v1/CARD")); };
  return q;
}

TEST(FirstRun, EmptyAnswersCreateACommunityWithTheDefaults) {
  Dialogue d("\n\n\n");
  auto a = cli::ask_first_run(d.in, d.out, questions());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->path, cli::FirstRunPath::create);
  EXPECT_FALSE(a->display_name.has_value());
  EXPECT_FALSE(a->community_name.has_value());
  EXPECT_NE(d.out.str().find("[kitchen]"), std::string::npos) << d.out.str();
  EXPECT_NE(d.out.str().find("1) create"), std::string::npos);
  EXPECT_NE(d.out.str().find("2) join"), std::string::npos);
  EXPECT_NE(d.out.str().find("[kitchen's community]"), std::string::npos);
}

TEST(FirstRun, CreateTakesTheNamesGiven) {
  Dialogue d("attic\ncreate\nThe Street\n");
  auto a = cli::ask_first_run(d.in, d.out, questions());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->path, cli::FirstRunPath::create);
  EXPECT_EQ(a->display_name, "attic");
  EXPECT_EQ(a->community_name, "The Street");
  EXPECT_NE(d.out.str().find("[attic's community]"), std::string::npos) << d.out.str();
}

TEST(FirstRun, JoinShowsTheIdCardThenTakesTheInvite) {
  Dialogue d("\n2\n\n  hearthnet://v1/INVITE  \n");
  auto a = cli::ask_first_run(d.in, d.out, questions());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->path, cli::FirstRunPath::join);
  EXPECT_EQ(a->invite, "hearthnet://v1/INVITE");  // an empty line is asked again
  EXPECT_NE(d.out.str().find("hearthnet invite create --node-id hearthnet-id://v1/CARD"),
            std::string::npos)
      << d.out.str();
}

TEST(FirstRun, AnUnusableChoiceIsAskedAgainThenAborts) {
  Dialogue again("\nmaybe\nj\n/tmp/invite.txt\n");
  auto a = cli::ask_first_run(again.in, again.out, questions());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->path, cli::FirstRunPath::join);
  EXPECT_EQ(a->invite, "/tmp/invite.txt");
  EXPECT_NE(again.out.str().find("Please answer 1 (create) or 2 (join)"), std::string::npos);

  Dialogue stubborn("\nx\ny\nz\n");
  auto b = cli::ask_first_run(stubborn.in, stubborn.out, questions());
  ASSERT_FALSE(b.has_value());
  EXPECT_TRUE(cli::is_aborted(b.error()));
}

TEST(FirstRun, EndOfInputIsAnAbort) {
  for (const char* input : {"", "name\n", "name\n2\n"}) {
    Dialogue d(input);
    auto a = cli::ask_first_run(d.in, d.out, questions());
    ASSERT_FALSE(a.has_value()) << input;
    EXPECT_TRUE(cli::is_aborted(a.error())) << input;
  }
}

TEST(FirstRun, FlagsSkipTheirQuestions) {
  auto q = questions();
  q.ask_name = false;
  q.path = cli::FirstRunPath::create;
  q.ask_community_name = false;
  Dialogue d("");
  auto a = cli::ask_first_run(d.in, d.out, q);
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->path, cli::FirstRunPath::create);
  EXPECT_EQ(d.out.str(), "");
}

TEST(InviteArgument, TextFileOrStdin) {
  std::istringstream none;
  EXPECT_EQ(*cli::read_invite_argument("hearthnet://v1/ABC", none), "hearthnet://v1/ABC");
  test::TempDir dir;
  std::ofstream(dir / "invite") << "\r\n hearthnet://v1/FROMFILE\n";
  EXPECT_EQ(*cli::read_invite_argument((dir / "invite").string(), none), "hearthnet://v1/FROMFILE");
  std::istringstream in("hearthnet://v1/FROMSTDIN\n");
  EXPECT_EQ(*cli::read_invite_argument("-", in), "hearthnet://v1/FROMSTDIN");
  std::istringstream empty("\n");
  EXPECT_EQ(cli::read_invite_argument("-", empty).error().code, ErrorCode::invite_invalid);
}

}  // namespace
}  // namespace hn
