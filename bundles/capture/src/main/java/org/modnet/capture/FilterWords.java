package org.modnet.capture;

import java.util.ArrayList;
import java.util.List;

/**
 * The words of a tcpdump filter expression, parentheses apart ({@code (tcp or udp)} is five words),
 * and a cursor over them: what both readers of the language — the predicate and the BPF compiler — walk.
 */
final class FilterWords {
    private final List<String> words = new ArrayList<>();
    private int i;
    private int depth;

    /** How deep "not" and parentheses may nest: deeper is "expression too complex", not a stack overflow. */
    static final int MAX_DEPTH = 200;

    FilterWords(List<String> args) {
        for (String a : args) {
            for (String w : a.replace("(", " ( ").replace(")", " ) ").trim().split("\\s+")) {
                if (!w.isEmpty()) {
                    words.add(w);
                }
            }
        }
    }

    boolean isEmpty() {
        return words.isEmpty();
    }

    /** The next word, not taken; null at the end. */
    String peek() {
        return i < words.size() ? words.get(i) : null;
    }

    String next() {
        if (i >= words.size()) {
            throw new IllegalArgumentException("syntax error in filter expression: unexpected end");
        }
        return words.get(i++);
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
            throw new IllegalArgumentException("syntax error in filter expression at \"" + words.get(i) + "\"");
        }
    }
}
