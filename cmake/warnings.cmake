# Warnings are errors in our own code; third-party C (llhttp) keeps its defaults.
# -Wno-restrict: GCC 12 reports false positives inside std::string operator+ (GCC bug 105329).
# -Wno-mismatched-new-delete: GCC 12 flags Asio's coroutine frame allocator (operator new/delete
#   with a size) in some coroutines as mismatched; a known false positive (GCC bug 109224).
function(pivot_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers -Wno-restrict -Wno-mismatched-new-delete)
endfunction()
