package org.modnet.packetdrill;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.modnet.packetdrill.Token.Kind;

/**
 * The packetdrill tokenizer (the rules of {@code lexer.l}, LANGUAGE.md section 1): at each place the
 * longest match wins, a tie goes to the rule listed first (reserved words, {@code ...}, options,
 * floats, integers, hex, words, strings, back-quoted commands, single characters; then comments, code
 * and addresses, which are never as short as one character). Whitespace and comments separate tokens
 * and are dropped. A WORD equal to a {@code -D NAME=VALUE} name is replaced by VALUE as an INTEGER,
 * a STRING, a BACK_QUOTED command or a WORD. The lexer never fails: what matches no rule is a single
 * character, which the parser then refuses.
 */
final class Lexer {
    /** The words the grammar reserves (lexer.l's keyword rules): they are never WORDs. */
    static final Set<String> RESERVED = Set.of(
            "sa_family", "sin_port", "sin_addr", "msg_name", "msg_iov", "msg_flags", "msg_control",
            "cmsg_data", "cmsg_level", "cmsg_type", "ee_errno", "ee_origin", "ee_type", "ee_code",
            "ee_info", "ee_data", "scm_sec", "scm_nsec", "fd", "u32", "u64", "ptr", "events", "revents",
            "onoff", "linger", "htons", "ipv4", "ipv6", "icmp", "udp", "GREv0", "gre", "raw", "sum", "off",
            "key", "seq", "none", "checksum", "present", "mpls", "label", "tc", "ttl", "inet_addr",
            "inet6_addr", "ack", "eol", "ecr", "mss", "mtu", "nop", "sack", "sackOK", "md5", "TS", "FO",
            "FOEXP", "ECN", "tos", "flowlabel", "flags", "Flags", "val", "win", "urg", "wscale", "ect01",
            "ect0", "ect1", "noecn", "ce", "id");

    private static final Pattern IPV4 = Pattern.compile("[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+");
    private static final List<Pattern> IPV6;

    static {
        String seg = "[0-9a-fA-F]{1,4}";
        String v4 = "[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+";
        IPV6 = List.of(
                "[:][:]",
                "(" + seg + "[:]){7}" + seg,
                "(" + seg + "[:]){1,7}[:]",
                "(" + seg + "[:]){1,6}[:]" + seg,
                "(" + seg + "[:]){1,5}([:]" + seg + "){1,2}",
                "(" + seg + "[:]){1,4}([:]" + seg + "){1,3}",
                "(" + seg + "[:]){1,3}([:]" + seg + "){1,4}",
                "(" + seg + "[:]){1,2}([:]" + seg + "){1,5}",
                seg + "[:](([:]" + seg + "){1,6})",
                "[:]([:]" + seg + "){1,7}",
                "[:][:]ffff[:]" + v4,
                "[:][:]ffff[:](0){1,4}[:]" + v4,
                "(" + seg + "[:]){1,4}[:]" + v4).stream().map(Pattern::compile).toList();
    }

    private final String in;
    private Map<String, String> defines;
    private int pos;
    private int line = 1;

    Lexer(String text, Map<String, String> defines) {
        this.in = text;
        this.defines = defines;
    }

    /** Replaces the {@code -D} symbols (the script's own {@code --define} options arrive late). */
    void defines(Map<String, String> symbols) {
        this.defines = symbols;
    }

    /** Scans again from the start of {@code t}, so a token read ahead sees new defines. */
    void rewind(Token t) {
        pos = t.offset();
        line = 1;
        for (int i = 0; i < pos; i++) {
            if (in.charAt(i) == '\n') {
                line++;
            }
        }
    }

    Token next() {
        while (true) {
            skipBlanks();
            if (pos >= in.length()) {
                return new Token(Kind.EOF, "", line, pos);
            }
            int start = pos;
            // The rules that can be longer than one character, each giving its length here (0: no match).
            int comment = Math.max(lineComment(start), blockComment(start));
            int code = code(start);
            int ellipsis = in.startsWith("...", start) ? 3 : 0;
            int option = option(start);
            int floating = floating(start);
            int integer = integer(start);
            int hex = hex(start);
            int word = word(start);
            int string = quoted(start, '"');
            int backQuoted = quoted(start, '`');
            char c = in.charAt(start);
            int ipv4 = isDigit(c) ? match(IPV4, start) : 0;
            int ipv6 = 0;
            if (c == ':' || Character.digit(c, 16) >= 0 && c < 128) {
                for (Pattern p : IPV6) {
                    ipv6 = Math.max(ipv6, match(p, start));
                }
            }
            int best = max(1, comment, code, ellipsis, option, floating, integer, hex, word, string,
                    backQuoted, ipv4, ipv6);
            if (best == word && RESERVED.contains(in.substring(start, start + word))) {
                return token(Kind.RESERVED, start, word, in.substring(start, start + word));
            }
            if (best == ellipsis) {
                return token(Kind.ELLIPSIS, start, 3, "...");
            }
            if (best == option) {
                return token(Kind.OPTION, start, option, in.substring(start + 2, start + option));
            }
            if (best == floating) {
                return token(Kind.FLOAT, start, floating, in.substring(start, start + floating));
            }
            if (best == integer) {
                return token(Kind.INTEGER, start, integer, in.substring(start, start + integer));
            }
            if (best == hex) {
                return token(Kind.HEX_INTEGER, start, hex, in.substring(start, start + hex));
            }
            if (best == word) {
                return defined(token(Kind.WORD, start, word, in.substring(start, start + word)));
            }
            if (best == string) {
                return token(Kind.STRING, start, string, in.substring(start + 1, start + string - 1));
            }
            if (best == backQuoted) {
                return token(Kind.BACK_QUOTED, start, backQuoted, in.substring(start + 1, start + backQuoted - 1));
            }
            if (best == 1) {
                return token(Kind.CHAR, start, 1, in.substring(start, start + 1));
            }
            if (best == comment) {
                advance(start, comment);
                continue;
            }
            if (best == code) {
                return token(Kind.CODE, start, code, trimBlanks(in.substring(start + 2, start + code - 2)));
            }
            if (best == ipv4) {
                return token(Kind.IPV4_ADDR, start, ipv4, in.substring(start, start + ipv4));
            }
            return token(Kind.IPV6_ADDR, start, ipv6, in.substring(start, start + ipv6));
        }
    }

    private static int max(int first, int... rest) {
        int m = first;
        for (int r : rest) {
            m = Math.max(m, r);
        }
        return m;
    }

    private Token token(Kind kind, int start, int length, String text) {
        int startLine = line;
        advance(start, length);
        return new Token(kind, text, line, start, startLine);
    }

    private void advance(int start, int length) {
        for (int i = start; i < start + length; i++) {
            if (in.charAt(i) == '\n') {
                line++;
            }
        }
        pos = start + length;
    }

    private void skipBlanks() {
        while (pos < in.length()) {
            char c = in.charAt(pos);
            if (c == '\n') {
                line++;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** {@code -D NAME=VALUE}: an integer (C's strtol with base 0), "a string", `a command`, or a word. */
    private Token defined(Token t) {
        String value = defines.get(t.text());
        if (value == null) {
            return t;
        }
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return new Token(Kind.STRING, value.substring(1, value.length() - 1), t.line(), t.offset());
        }
        if (value.length() >= 2 && value.startsWith("`") && value.endsWith("`")) {
            return new Token(Kind.BACK_QUOTED, value.substring(1, value.length() - 1), t.line(), t.offset());
        }
        Long number = strtol(value);
        if (number != null) {
            return new Token(Kind.INTEGER, Long.toString(number), t.line(), t.offset());
        }
        return new Token(Kind.WORD, value, t.line(), t.offset());
    }

    /** The whole of {@code s} as C's {@code strtol(s, &end, 0)} reads it, or null if it is not all a number. */
    static Long strtol(String s) {
        String t = s.strip();
        boolean negative = false;
        if (t.startsWith("-") || t.startsWith("+")) {
            negative = t.startsWith("-");
            t = t.substring(1);
        }
        int radix = 10;
        if (t.length() > 2 && (t.startsWith("0x") || t.startsWith("0X"))) {
            radix = 16;
            t = t.substring(2);
        } else if (t.length() > 1 && t.startsWith("0")) {
            radix = 8;
            t = t.substring(1);
        }
        if (t.isEmpty()) {
            return null;
        }
        for (int i = 0; i < t.length(); i++) {
            if (Character.digit(t.charAt(i), radix) < 0) {
                return null;
            }
        }
        try {
            long v = Long.parseLong(t, radix);
            return negative ? -v : v;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String trimBlanks(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) {
            a++;
        }
        while (b > a && (s.charAt(b - 1) == ' ' || s.charAt(b - 1) == '\t')) {
            b--;
        }
        return s.substring(a, b);
    }

    private int match(Pattern p, int start) {
        Matcher m = p.matcher(in).region(start, in.length());
        return m.lookingAt() ? m.end() - start : 0;
    }

    /** {@code //...}, to the end of the line (a comment on the last line needs no newline here). */
    private int lineComment(int s) {
        if (!in.startsWith("//", s)) {
            return 0;
        }
        int nl = in.indexOf('\n', s);
        return nl < 0 ? in.length() - s : nl + 1 - s;
    }

    /** {@code /* ... *}{@code /}, read as lexer.l's regular expression reads it; 0 if never closed. */
    private int blockComment(int s) {
        return delimited(s, "/*", '*', '/');
    }

    /** {@code %{ ... }%}, read as lexer.l's regular expression reads it; 0 if never closed. */
    private int code(int s) {
        return delimited(s, "%{", '}', '%');
    }

    /** An opener, then any of (not {@code close1}) or ({@code close1}, not {@code close2}), then the pair. */
    private int delimited(int s, String open, char close1, char close2) {
        if (!in.startsWith(open, s)) {
            return 0;
        }
        int i = s + 2;
        while (i < in.length()) {
            if (in.charAt(i) != close1) {
                i++;
            } else if (i + 1 >= in.length()) {
                return 0;
            } else if (in.charAt(i + 1) == close2) {
                return i + 2 - s;
            } else {
                i += 2;
            }
        }
        return 0;
    }

    private int option(int s) {
        if (!in.startsWith("--", s)) {
            return 0;
        }
        int n = run(s + 2, Lexer::isWordChar);
        return n == 0 ? 0 : n + 2;
    }

    private int floating(int s) {
        int i = s;
        if (i < in.length() && in.charAt(i) == '-') {
            i++;
        }
        i += run(i, Lexer::isDigit);
        if (i >= in.length() || in.charAt(i) != '.') {
            return 0;
        }
        int frac = run(i + 1, Lexer::isDigit);
        return frac == 0 ? 0 : i + 1 + frac - s;
    }

    private int integer(int s) {
        int sign = s < in.length() && in.charAt(s) == '-' ? 1 : 0;
        int n = run(s + sign, Lexer::isDigit);
        return n == 0 ? 0 : n + sign;
    }

    private int hex(int s) {
        if (!in.startsWith("0x", s)) {
            return 0;
        }
        int n = run(s + 2, c -> Character.digit(c, 16) >= 0 && c < 128);
        return n == 0 ? 0 : n + 2;
    }

    private int word(int s) {
        return run(s, Lexer::isWordChar);
    }

    /** A quoted run: the quote, then any of (backslash, any char) or (not the quote), then the quote. */
    private int quoted(int s, char quote) {
        if (s >= in.length() || in.charAt(s) != quote) {
            return 0;
        }
        int i = s + 1;
        while (i < in.length()) {
            char c = in.charAt(i);
            if (c == quote) {
                return i + 1 - s;
            }
            i += c == '\\' && i + 1 < in.length() ? 2 : 1;
        }
        return 0;
    }

    private interface CharTest {
        boolean test(char c);
    }

    private int run(int s, CharTest t) {
        int i = s;
        while (i < in.length() && t.test(in.charAt(i))) {
            i++;
        }
        return i - s;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isWordChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_';
    }
}
