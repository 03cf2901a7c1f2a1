// Runs that collected different test ids (parameters drawn at collection time) are flagged; runs
// that stopped early (-x, a crash) and the same ids in every run are not.
#include <gtest/gtest.h>

#include "audit/collection_check.h"

namespace flakescope::audit {
namespace {

RunRecord run_with(std::size_t index, std::vector<std::string> ids,
                   Outcome outcome = Outcome::kPass) {
  RunRecord r;
  r.run = index;
  r.outcome = outcome;
  for (auto& id : ids) r.testcases.push_back(make_testcase(std::move(id), Outcome::kPass, 0.1, ""));
  return r;
}

TEST(CollectionCheck, TheSameIdsInEveryRunGiveNoWarning) {
  EXPECT_FALSE(collection_warning({run_with(0, {"t::a", "t::b"}), run_with(1, {"t::b", "t::a"})}));
}

TEST(CollectionCheck, ARunThatStoppedEarlyIsASubsetNotAChange) {
  // pytest -x: the failing run never reached t::c.
  EXPECT_FALSE(collection_warning(
      {run_with(0, {"t::a", "t::b", "t::c"}), run_with(1, {"t::a", "t::b"}, Outcome::kFail)}));
  EXPECT_FALSE(collection_warning(
      {run_with(0, {"t::a", "t::x"}), run_with(1, {"t::a", "t::y"}, Outcome::kCrash)}));
}

TEST(CollectionCheck, IdsDrawnAtCollectionAreCountedAndNamed) {
  const auto warning = collection_warning({run_with(0, {"t::fixed", "t::drawn[17]"}),
                                           run_with(1, {"t::fixed", "t::drawn[4]"}),
                                           run_with(2, {"t::fixed", "t::drawn[17]"})});
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("2 test ids were collected in only some of the 3 completed runs"),
            std::string::npos)
      << *warning;
  EXPECT_NE(warning->find("setting controlled"), std::string::npos);
}

TEST(CollectionCheck, SettingsAreComparedSeparately) {
  RunRecord free_run = run_with(0, {"t::other"});
  free_run.setting = "free";
  EXPECT_FALSE(collection_warning({run_with(0, {"t::a"}), run_with(1, {"t::a"}), free_run}));
}

}  // namespace
}  // namespace flakescope::audit
