package org.modnet.console;

import java.util.regex.Pattern;

/**
 * grep's regular expressions in Java's {@link Pattern} syntax, as GNU grep reads them: basic (BRE, the
 * default: {@code \|}, {@code \(\)}, {@code \{\}}, {@code \+}, {@code \?} are the operators and the bare
 * characters are literal), extended ({@code -E}: the bare characters are the operators) or fixed
 * strings ({@code -F}). Bracket expressions keep POSIX's rules (a backslash is literal, {@code ]} first
 * is literal, {@code [:digit:]} and the other classes), and {@code \<}, {@code \>} are word boundaries.
 */
final class GrepPattern {
    private GrepPattern() {
    }

    /** The Java pattern for {@code re}; throws {@link java.util.regex.PatternSyntaxException} for a bad one. */
    static Pattern compile(String re, boolean extended, boolean fixed, boolean ignoreCase, boolean word) {
        String java = fixed ? Pattern.quote(re) : translate(re, extended);
        if (word) {
            java = "(?<![\\p{Alnum}_])(?:" + java + ")(?![\\p{Alnum}_])";
        }
        return Pattern.compile(java, ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
    }

    static String translate(String re, boolean extended) {
        StringBuilder out = new StringBuilder(re.length() + 8);
        boolean atStart = true; // where a '*' is literal: the start of the RE or of a group or alternative
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            boolean start = atStart;
            atStart = false;
            if (c == '[') {
                i = bracket(re, i, out);
                continue;
            }
            if (c == '\\') {
                if (i + 1 == re.length()) {
                    throw new java.util.regex.PatternSyntaxException("Trailing backslash", re, i);
                }
                char n = re.charAt(++i);
                switch (n) {
                    case '<', '>' -> out.append("\\b");
                    case 'w', 'W', 's', 'S', 'b', 'B' -> out.append('\\').append(n);
                    case '|', '(', ')', '{', '}', '+', '?' -> {
                        if (extended) {
                            out.append('\\').append(n); // a literal in ERE
                        } else {
                            out.append(n); // the operator in BRE (GNU)
                            atStart = n == '|' || n == '(';
                        }
                    }
                    default -> {
                        if (Character.isLetterOrDigit(n) && !(n >= '1' && n <= '9')) {
                            out.append(n); // an unknown escape of a letter is the letter
                        } else {
                            out.append('\\').append(n); // \. \* \\ \/ and back-references \1..\9
                        }
                    }
                }
                continue;
            }
            switch (c) {
                case '|', '(', ')', '{', '}', '+', '?' -> {
                    if (extended) {
                        out.append(c);
                        atStart = c == '|' || c == '(';
                    } else {
                        out.append('\\').append(c);
                    }
                }
                case '*' -> out.append(start ? "\\*" : "*");
                case '^' -> {
                    out.append('^');
                    atStart = start;
                }
                default -> {
                    if ("$.".indexOf(c) >= 0 || Character.isLetterOrDigit(c) || c == ' ' || c == '_' || c == '-') {
                        out.append(c);
                    } else {
                        out.append(Pattern.quote(String.valueOf(c)));
                    }
                }
            }
        }
        return out.toString();
    }

    /** Copies the bracket expression starting at {@code open}; returns the index of its closing {@code ]}. */
    private static int bracket(String re, int open, StringBuilder out) {
        int i = open + 1;
        StringBuilder b = new StringBuilder("[");
        if (i < re.length() && re.charAt(i) == '^') {
            b.append('^');
            i++;
        }
        boolean first = true;
        for (; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == ']' && !first) {
                out.append(b).append(']');
                return i;
            }
            first = false;
            if (c == '[' && i + 1 < re.length() && re.charAt(i + 1) == ':') {
                int end = re.indexOf(":]", i + 2);
                if (end < 0) {
                    throw new java.util.regex.PatternSyntaxException("Unmatched [, [^, [:, [., or [=", re, i);
                }
                b.append(posixClass(re.substring(i + 2, end), re, i));
                i = end + 1;
                continue;
            }
            if (c == '\\' || c == '[' || c == ']' || c == '&' || c == '^') {
                b.append('\\').append(c); // literal inside a POSIX bracket expression
            } else {
                b.append(c);
            }
        }
        throw new java.util.regex.PatternSyntaxException("Unmatched [, [^, [:, [., or [=", re, open);
    }

    private static String posixClass(String name, String re, int at) {
        return switch (name) {
            case "alpha" -> "\\p{Alpha}";
            case "digit" -> "\\p{Digit}";
            case "alnum" -> "\\p{Alnum}";
            case "upper" -> "\\p{Upper}";
            case "lower" -> "\\p{Lower}";
            case "space" -> "\\s\\x0B";
            case "blank" -> " \\t";
            case "punct" -> "\\p{Punct}";
            case "print" -> "\\p{Print}";
            case "graph" -> "\\p{Graph}";
            case "cntrl" -> "\\p{Cntrl}";
            case "xdigit" -> "\\p{XDigit}";
            default -> throw new java.util.regex.PatternSyntaxException("Invalid character class name", re, at);
        };
    }
}
