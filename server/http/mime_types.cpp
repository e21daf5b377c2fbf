#include "server/http/mime_types.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace pivot::http {
namespace {

// Sorted by extension (lower case) for binary search. Go's built-in table plus the types a web
// application commonly ships; no libmagic, no /etc/mime.types, so a file's type never depends on
// the host it runs on.
constexpr std::array<std::pair<std::string_view, std::string_view>, 62> kTypes{{
    {".7z", "application/x-7z-compressed"},
    {".aac", "audio/aac"},
    {".apng", "image/apng"},
    {".atom", "application/atom+xml"},
    {".avif", "image/avif"},
    {".bmp", "image/bmp"},
    {".bz2", "application/x-bzip2"},
    {".css", "text/css; charset=utf-8"},
    {".csv", "text/csv; charset=utf-8"},
    {".eot", "application/vnd.ms-fontobject"},
    {".epub", "application/epub+zip"},
    {".flac", "audio/flac"},
    {".gif", "image/gif"},
    {".gz", "application/gzip"},
    {".heic", "image/heic"},
    {".htm", "text/html; charset=utf-8"},
    {".html", "text/html; charset=utf-8"},
    {".ico", "image/x-icon"},
    {".ics", "text/calendar; charset=utf-8"},
    {".jpeg", "image/jpeg"},
    {".jpg", "image/jpeg"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".jsonld", "application/ld+json"},
    {".m4a", "audio/mp4"},
    {".m4v", "video/mp4"},
    {".map", "application/json"},
    {".md", "text/markdown; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".mov", "video/quicktime"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".mpeg", "video/mpeg"},
    {".oga", "audio/ogg"},
    {".ogg", "audio/ogg"},
    {".ogv", "video/ogg"},
    {".opus", "audio/ogg"},
    {".otf", "font/otf"},
    {".pdf", "application/pdf"},
    {".png", "image/png"},
    {".rar", "application/vnd.rar"},
    {".rss", "application/rss+xml"},
    {".svg", "image/svg+xml"},
    {".tar", "application/x-tar"},
    {".tif", "image/tiff"},
    {".tiff", "image/tiff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".wav", "audio/wav"},
    {".weba", "audio/webm"},
    {".webm", "video/webm"},
    {".webmanifest", "application/manifest+json"},
    {".webp", "image/webp"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".xhtml", "application/xhtml+xml"},
    {".xml", "text/xml; charset=utf-8"},
    {".xz", "application/x-xz"},
    {".yaml", "application/yaml"},
    {".zip", "application/zip"},
    {".zst", "application/zstd"},
}};

constexpr bool sorted() {
  for (std::size_t i = 1; i < kTypes.size(); ++i) {
    if (!(kTypes[i - 1].first < kTypes[i].first)) return false;
  }
  return true;
}
static_assert(sorted(), "kTypes must be sorted by extension");

}  // namespace

std::string_view mime_type_for(std::string_view extension) noexcept {
  constexpr std::string_view kDefault = "application/octet-stream";
  char lower[16];
  if (extension.size() > sizeof lower) return kDefault;
  for (std::size_t i = 0; i < extension.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(extension[i])));
  }
  const std::string_view key(lower, extension.size());
  const auto it = std::lower_bound(kTypes.begin(), kTypes.end(), key, [](const auto& e, std::string_view k) { return e.first < k; });
  return it != kTypes.end() && it->first == key ? it->second : kDefault;
}

}  // namespace pivot::http
