package org.modnet.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The tokens of a tcpdump filter expression, as libpcap's scanner cuts them: tcpdump joins its
 * arguments with spaces, so {@code 'udp port 53'} and {@code udp port 53} are the same words. A word
 * is a run of letters, digits and {@code - _ . :} ({@code 10.0.0.1}, {@code tcp-syn}, {@code 100-200},
 * {@code 02:00:00:00:00:01}, {@code 2001:db8::1}); a colon that does not make a MAC or IPv6 address ends it, so {@code ip[6:2]} is
 * {@code ip [ 6 : 2 ]}. Operators are {@code ( ) [ ] : ! && || = == != < <= > >= + - * / % & | ^ << >>},
 * and {@code \tcp} is one word. A cursor walks them for the parser.
 */
final class FilterWords {
    /** libpcap's words for every expression it cannot parse. */
    static final String SYNTAX = "can't parse filter expression: syntax error";

    private static final Set<String> TWO = Set.of("&&", "||", "==", "!=", "<=", ">=", "<<", ">>");
    private static final String ONE = "()[]:!=<>+-*/%&|^";

    private final List<String> words = new ArrayList<>();
    private int i;
    private int depth;

    /** How deep "not", parentheses and arithmetic may nest: deeper is "expression too complex", not a stack overflow. */
    static final int MAX_DEPTH = 200;

    FilterWords(List<String> args) {
        String s = String.join(" ", args);
        int n = s.length();
        int k = 0;
        while (k < n) {
            char c = s.charAt(k);
            if (Character.isWhitespace(c)) {
                k++;
            } else if (k + 1 < n && TWO.contains(s.substring(k, k + 2))) {
                words.add(s.substring(k, k + 2));
                k += 2;
            } else if (c == ':' && k + 1 < n && s.charAt(k + 1) == ':') {
                int start = k; // an IPv6 address that starts "::"
                while (k < n && (wordChar(s.charAt(k)) || s.charAt(k) == ':')) {
                    k++;
                }
                words.add(s.substring(start, k));
            } else if (ONE.indexOf(c) >= 0) {
                words.add(String.valueOf(c));
                k++;
            } else if (c == '\\' || wordChar(c)) {
                int start = k++;
                while (k < n && (wordChar(s.charAt(k)) || s.charAt(k) == '-' || s.charAt(k) == ':')) {
                    k++;
                }
                String w = s.substring(start, k);
                int colon = w.indexOf(':');
                if (colon >= 0 && !w.matches("[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5}") && !ipv6Like(w)) {
                    k = start + colon; // not a MAC address: the colon is ip[6:2]'s
                    w = w.substring(0, colon);
                }
                words.add(w);
            } else {
                throw new IllegalArgumentException(SYNTAX); // libpcap: "illegal character"; a character no word has
            }
        }
    }

    /** An IPv6 address, not ip6[6:2]'s "6:2": two colons at least, hex digits and dots else. */
    private static boolean ipv6Like(String w) {
        return w.matches("[0-9A-Fa-f:.]+") && w.indexOf(':') != w.lastIndexOf(':');
    }

    private static boolean wordChar(char c) {
        return c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '.');
    }

    boolean isEmpty() {
        return words.isEmpty();
    }

    /** The next word, not taken; null at the end. */
    String peek() {
        return peek(0);
    }

    /** The word {@code ahead} places after the next; null past the end. */
    String peek(int ahead) {
        return i + ahead < words.size() ? words.get(i + ahead) : null;
    }

    boolean at(String... any) {
        String w = peek();
        for (String a : any) {
            if (a.equals(w)) {
                return true;
            }
        }
        return false;
    }

    String next() {
        if (i >= words.size()) {
            throw new IllegalArgumentException(SYNTAX);
        }
        return words.get(i++);
    }

    /** Takes the next word, which must be {@code w}. */
    void expect(String w) {
        if (!w.equals(next())) {
            throw new IllegalArgumentException(SYNTAX);
        }
    }

    /** The word after the parenthesis that closes the one at the cursor; null when none follows or none closes. */
    String afterClosing() {
        int d = 0;
        for (int k = i; k < words.size(); k++) {
            String w = words.get(k);
            if (w.equals("(")) {
                d++;
            } else if (w.equals(")") && --d == 0) {
                return k + 1 < words.size() ? words.get(k + 1) : null;
            }
        }
        return null;
    }

    /** A reader goes one level deeper (a "not", a parenthesis). */
    void enter() {
        if (++depth > MAX_DEPTH) {
            throw new IllegalArgumentException("expression too complex");
        }
    }

    void leave() {
        depth--;
    }

    /** The expression is over: a word left is a syntax error. */
    void end() {
        if (i != words.size()) {
            throw new IllegalArgumentException(SYNTAX);
        }
    }
}
