# Warnings are errors in our own code; third-party C (llhttp) keeps its defaults.
# -Wno-restrict: GCC 12 reports false positives inside std::string operator+ (GCC bug 105329).
function(pivot_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers -Wno-restrict)
endfunction()
