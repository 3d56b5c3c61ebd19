#pragma once

// Bounds on what a hostile page can make the HTML parser and avow do. Debian's gumbo (0.10) has no depth limit:
// its tree builder scans the stack of open elements for most tags, so a page of 100,000 nested <div> takes minutes
// to parse, and avow's own tree walks recurse. These checks refuse such a page before and after parsing.

#include <archive/util/error.hpp>

#include <cstddef>
#include <string_view>

struct GumboInternalNode;

namespace avow::html {

// The deepest nesting accepted: gumbo's later versions stop at the same depth (their max_tree_depth), and real
// pages stay far below it (a few dozen levels).
inline constexpr std::size_t k_max_depth = 400;

// Estimate the depth of the stack of open elements HTML5 tree construction will reach for `utf8`, with a light
// tokenizer that follows the tree builder where nesting is decided (void elements, raw text elements, comments,
// end tags closing up to a scope boundary, implied end tags of p, li, dd, dt, option, td, th, tr and headings, the
// reopening of active formatting elements, foreign content); invalid_input when it exceeds `limit`. The estimate
// errs high, never low, in the cases that matter (an unknown construct is counted as nesting).
Expected<void> check_nesting(std::string_view utf8, std::size_t limit = k_max_depth);

// Walk the parsed tree without recursion; invalid_input when it is deeper than twice `limit`. This bounds the
// recursion of avow's own tree walks whatever the estimate missed (on random tag soup the tree stayed under 1.8
// times the estimate's limit).
Expected<void> check_tree_depth(const GumboInternalNode* document, std::size_t limit = k_max_depth);

} // namespace avow::html
