#include "docs.hpp"

#include <tool/app.hpp>

#include <archive/version.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <sstream>
#include <vector>

namespace avow::tool {

namespace {

// Escape text for roff: backslashes, hyphens (so they stay ASCII hyphen-minus and can be searched), and a leading
// '.' or '\'' that roff would read as a request.
std::string roff(std::string_view s) {
  std::string out;
  bool line_start = true;
  for (char c : s) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string dashed_path(const CLI::App& app) {
  std::string p = command_path(app);
  std::replace(p.begin(), p.end(), ' ', '-');
  return p;
}

// The options of `app` that its help lists (a hidden option has an empty group), help flag included.
std::vector<const CLI::Option*> visible_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

bool takes_value(const CLI::Option* o) { return o->get_expected_max() != 0; } // a flag expects 0 values

std::string option_names(const CLI::Option* o) {
  std::string s;
  for (const auto& n : o->get_snames()) s += (s.empty() ? "" : ", ") + std::string("-") + n;
  for (const auto& n : o->get_lnames()) s += (s.empty() ? "" : ", ") + std::string("--") + n;
  return s;
}

void man_options(std::ostringstream& out, const std::vector<const CLI::Option*>& options) {
  for (const auto* o : options) {
    if (o->get_positional()) continue;
    out << ".TP\n\\fB" << roff(option_names(o)) << "\\fR";
    if (takes_value(o)) out << " \\fI" << roff(o->get_type_name()) << "\\fR";
    out << "\n" << roff(o->get_description());
    if (!o->get_envname().empty()) out << " (environment: \\fB" << roff(o->get_envname()) << "\\fR)";
    if (o->get_required()) out << " Required.";
    out << "\n";
  }
}

void walk(const CLI::App& app, const std::function<void(const CLI::App&)>& f) {
  f(app);
  for (const auto* sub : subcommands_of(app)) walk(*sub, f);
}

const CLI::App& root_of(const CLI::App& app) {
  const CLI::App* r = &app;
  while (r->get_parent() != nullptr) r = r->get_parent();
  return *r;
}

// Quote `s` for a single-quoted shell word.
std::string sq(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Escape a description for a zsh _arguments spec or _describe entry: brackets, colons and backslashes.
std::string zsh_desc(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_function_name(const CLI::App& app) {
  std::string p = "_" + dashed_path(app);
  std::replace(p.begin(), p.end(), '-', '_');
  return p;
}

bool wants_folder(const CLI::Option* o) {
  const auto& l = o->get_lnames();
  return std::find(l.begin(), l.end(), "archive") != l.end();
}

} // namespace

std::string man_page_name(const CLI::App& app) { return dashed_path(app) + ".1"; }

std::string man_page(const CLI::App& app) {
  std::ostringstream out;
  const std::string name = dashed_path(app);
  out << ".\\\" Generated from avow's own command tree by avow-docgen; do not edit.\n";
  out << ".TH " << roff(upper(name)) << " 1 \"\" \"avow " << roff(version()) << "\" \"avow manual\"\n";
  out << ".SH NAME\n" << roff(name) << " \\- " << roff(app.get_description()) << "\n";

  out << ".SH SYNOPSIS\n.B " << roff(command_path(app)) << "\n";
  const auto options = visible_options(app);
  bool any_option = false;
  for (const auto* o : options) any_option = any_option || !o->get_positional();
  if (any_option) out << "[\\fIOPTIONS\\fR]\n";
  for (const auto* o : options) {
    if (!o->get_positional()) continue;
    const bool many = o->get_items_expected_max() > 1;
    out << (o->get_required() ? "" : "[") << "\\fI" << roff(o->get_name(true)) << "\\fR" << (many ? "..." : "")
        << (o->get_required() ? "" : "]") << "\n";
  }
  const auto subs = subcommands_of(app);
  if (!subs.empty()) out << "\\fICOMMAND\\fR [\\fIARGS\\fR...]\n";

  out << ".SH DESCRIPTION\n" << roff(app.get_description()) << "\n";
  bool any_positional = false;
  for (const auto* o : options) any_positional = any_positional || o->get_positional();
  if (any_positional) {
    out << ".SH ARGUMENTS\n";
    for (const auto* o : options) {
      if (!o->get_positional()) continue;
      out << ".TP\n\\fI" << roff(o->get_name(true)) << "\\fR\n" << roff(o->get_description()) << "\n";
    }
  }
  if (any_option) {
    out << ".SH OPTIONS\n";
    man_options(out, options);
  }
  if (!subs.empty()) {
    out << ".SH COMMANDS\n";
    for (const auto* sub : subs)
      out << ".TP\n\\fB" << roff(sub->get_name()) << "\\fR\n" << roff(sub->get_description()) << " See \\fB"
          << roff(dashed_path(*sub)) << "\\fR(1).\n";
  }
  if (app.get_parent() != nullptr) {
    out << ".SH GLOBAL OPTIONS\nGiven before or after the command name.\n";
    auto globals = visible_options(root_of(app));
    globals.erase(std::remove_if(globals.begin(), globals.end(),
                                 [&](const CLI::Option* o) { return o->get_lnames() == std::vector<std::string>{"help"}; }),
                  globals.end());
    man_options(out, globals);
  }
  const std::string footer = app.get_footer();
  if (!footer.empty()) {
    out << ".SH EXAMPLES\n.nf\n";
    std::string body = footer;
    const std::string head = "Examples:\n";
    if (body.starts_with(head)) body = body.substr(head.size());
    else if (body.starts_with("Example: ")) body = "  " + body.substr(9);
    out << roff(body) << "\n.fi\n";
  }
  out << ".SH EXIT STATUS\n0 success; 1 the archive answered \"no\" (a problem found, no match); 2 usage; 3 invalid "
         "input; 4 archive state; 5 key; 6 I/O; 70 internal error. See docs/exit\\-codes.md.\n";
  out << ".SH SEE ALSO\n";
  std::vector<std::string> see;
  if (const auto* parent = app.get_parent()) see.push_back(dashed_path(*parent));
  for (const auto* sub : subs) see.push_back(dashed_path(*sub));
  if (see.empty() || app.get_parent() != nullptr) {
    if (std::find(see.begin(), see.end(), "avow") == see.end()) see.insert(see.begin(), "avow");
  }
  for (std::size_t i = 0; i < see.size(); ++i)
    out << "\\fB" << roff(see[i]) << "\\fR(1)" << (i + 1 < see.size() ? ",\n" : "\n");
  return out.str();
}

std::string bash_completion(const CLI::App& root) {
  std::set<std::string> value_options, folder_options;
  std::ostringstream paths, cases;
  walk(root, [&](const CLI::App& app) {
    const std::string path = command_path(app);
    if (app.get_parent() != nullptr) paths << "      " << sq(path) << ") path=" << sq(path) << " ;;\n";
    std::string cmds, opts;
    for (const auto* sub : subcommands_of(app)) cmds += (cmds.empty() ? "" : " ") + sub->get_name();
    bool positional = false;
    auto add_options = [&](const CLI::App& a) {
      for (const auto* o : visible_options(a)) {
        if (o->get_positional()) {
          positional = positional || &a == &app;
          continue;
        }
        for (const auto& n : o->get_snames()) {
          opts += (opts.empty() ? "-" : " -") + n;
          if (takes_value(o)) (wants_folder(o) ? folder_options : value_options).insert("-" + n);
        }
        for (const auto& n : o->get_lnames()) {
          opts += (opts.empty() ? "--" : " --") + n;
          if (takes_value(o)) (wants_folder(o) ? folder_options : value_options).insert("--" + n);
        }
      }
    };
    add_options(app);
    if (app.get_parent() != nullptr) add_options(root_of(app));
    cases << "    " << sq(path) << ") cmds=" << sq(cmds) << " opts=" << sq(opts) << " files=" << (positional ? 1 : 0)
          << " ;;\n";
  });
  auto joined = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : "|") + x;
    return out;
  };
  std::ostringstream out;
  out << "# bash completion for avow. Generated from avow's own command tree by avow-docgen; do not edit.\n"
      << "_avow() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "  local path=avow cmds= opts= files=0 i w\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=${COMP_WORDS[i]}\n"
      << "    case $w in\n"
      << "      " << joined(value_options) << "|" << joined(folder_options) << ") ((i++)); continue ;;\n"
      << "    esac\n"
      << "    case \"$path $w\" in\n"
      << paths.str()
      << "    esac\n"
      << "  done\n"
      << "  case $prev in\n"
      << "    " << joined(folder_options) << ") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
      << "    " << joined(value_options) << ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
      << "  esac\n"
      << "  case $path in\n"
      << cases.str()
      << "  esac\n"
      << "  if [[ $cur == -* ]]; then\n"
      << "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      << "  else\n"
      << "    COMPREPLY=($(compgen -W \"$cmds\" -- \"$cur\"))\n"
      << "    if ((files)); then COMPREPLY+=($(compgen -f -- \"$cur\")); fi\n"
      << "  fi\n"
      << "}\n"
      << "complete -o filenames -F _avow avow\n";
  return out.str();
}

std::string zsh_completion(const CLI::App& root) {
  std::ostringstream out;
  out << "#compdef avow\n# zsh completion for avow. Generated from avow's own command tree by avow-docgen; do not "
         "edit.\n\n";
  auto spec = [](const CLI::Option* o) {
    std::vector<std::string> names;
    for (const auto& n : o->get_snames()) names.push_back("-" + n);
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    std::string action;
    if (takes_value(o)) action = wants_folder(o) ? ":folder:_files -/" : ":" + o->get_type_name() + ":_files";
    std::string desc = "[" + zsh_desc(o->get_description()) + "]";
    std::string s;
    if (names.size() == 1) return "    " + sq(names[0] + desc + action) + " \\\n";
    std::string excl = "(";
    for (std::size_t i = 0; i < names.size(); ++i) excl += (i ? " " : "") + names[i];
    excl += ")";
    std::string brace = "{";
    for (std::size_t i = 0; i < names.size(); ++i) brace += (i ? "," : "") + names[i];
    brace += "}";
    return "    " + sq(excl) + brace + sq(desc + action) + " \\\n";
  };
  std::vector<const CLI::App*> order;
  walk(root, [&](const CLI::App& app) { order.push_back(&app); });
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const CLI::App& app = **it;
    const auto subs = subcommands_of(app);
    out << zsh_function_name(app) << "() {\n";
    if (!subs.empty()) out << "  local curcontext=\"$curcontext\" state line\n  typeset -A opt_args\n";
    out << "  _arguments -C -s \\\n";
    bool positional = false;
    for (const auto* o : visible_options(app)) {
      if (o->get_positional()) positional = true;
      else out << spec(o);
    }
    if (app.get_parent() != nullptr)
      for (const auto* o : visible_options(root_of(app)))
        if (!o->get_positional() && o->get_lnames() != std::vector<std::string>{"help"}) out << spec(o);
    if (!subs.empty()) {
      out << "    '1: :->command' \\\n    '*:: :->args'\n";
      out << "  case $state in\n    command)\n      local -a commands\n      commands=(\n";
      for (const auto* sub : subs)
        out << "        " << sq(sub->get_name() + ":" + zsh_desc(sub->get_description())) << "\n";
      out << "      )\n      _describe -t commands " << sq(command_path(app) + " command") << " commands ;;\n";
      out << "    args)\n      case $line[1] in\n";
      for (const auto* sub : subs) out << "        " << sub->get_name() << ") " << zsh_function_name(*sub) << " ;;\n";
      out << "      esac ;;\n  esac\n";
    } else {
      out << (positional ? "    '*:file:_files'\n" : "    \n");
    }
    out << "}\n\n";
  }
  out << zsh_function_name(root) << " \"$@\"\n";
  return out.str();
}

} // namespace avow::tool
