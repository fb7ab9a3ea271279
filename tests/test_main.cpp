// Shared GoogleTest main: fixes the thread count so results do not depend on the machine.
#include <gtest/gtest.h>

#include "core/threads.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tuna::set_num_threads(2);
  return RUN_ALL_TESTS();
}
