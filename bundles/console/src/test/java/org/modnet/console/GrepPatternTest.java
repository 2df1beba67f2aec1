package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.PatternSyntaxException;

import org.junit.jupiter.api.Test;

/** grep's patterns as GNU grep reads them, the ones people pipe ip, ss and nstat output through. */
class GrepPatternTest {
    private static boolean bre(String re, String line) {
        return GrepPattern.compile(re, false, false, false, false).matcher(line).find();
    }

    private static boolean ere(String re, String line) {
        return GrepPattern.compile(re, true, false, false, false).matcher(line).find();
    }

    @Test
    void basicAlternationAndGroupsAreBackslashed() {
        assertTrue(bre("OutSegs\\|InSegs", "TcpInSegs   141"));
        assertTrue(bre("OutSegs\\|InSegs", "TcpOutSegs  2089"));
        assertFalse(bre("OutSegs\\|InSegs", "TcpActiveOpens 1"));
        assertTrue(bre("a|b", "x a|b y"), "a bare | is a literal in a BRE");
        assertFalse(bre("a|b", "a"));
        assertTrue(bre("\\(ab\\)\\{2\\}", "xababx"));
        assertTrue(bre("(ab)", "(ab)"), "bare parentheses are literals");
        assertTrue(bre("ab\\+c", "abbbc"));
        assertTrue(bre("a+", "a+"));
    }

    @Test
    void extendedUsesTheBareOperators() {
        assertTrue(ere("OutSegs|InSegs", "TcpInSegs"));
        assertTrue(ere("(ab){2}", "abab"));
        assertTrue(ere("a\\|b", "a|b"), "an escaped | is a literal in an ERE");
        assertFalse(ere("a\\|b", "a"));
    }

    @Test
    void starAtTheStartIsLiteralAndAnchorsWork() {
        assertTrue(bre("*x", "a*x"));
        assertFalse(bre("*x", "x"));
        assertTrue(bre("^[0-9]*: lo", "1: lo: <LOOPBACK,UP>"));
        assertTrue(bre("UP>$", "<LOOPBACK,UP>"));
        assertTrue(bre("10.0.0.1", "inet 10.0.0.1/24"));
    }

    @Test
    void bracketsFollowPosix() {
        assertTrue(bre("[[:digit:]]\\+:", "12: veth0"));
        assertTrue(bre("[]x]", "a]"));
        assertTrue(bre("[\\]", "a\\b"), "a backslash in brackets is itself");
        assertTrue(bre("[^[:space:]]", " x "));
        assertThrows(PatternSyntaxException.class, () -> bre("[abc", "a"));
        assertThrows(PatternSyntaxException.class, () -> bre("[[:nosuch:]]", "a"));
    }

    @Test
    void wordsFixedStringsAndCase() {
        assertTrue(GrepPattern.compile("lo", false, false, false, true).matcher("1: lo: <LOOPBACK>").find());
        assertFalse(GrepPattern.compile("lo", false, false, false, true).matcher("2: vlo0: <UP>").find());
        assertTrue(GrepPattern.compile("a.b[", false, true, false, false).matcher("xa.b[y").find());
        assertFalse(GrepPattern.compile("a.b", false, true, false, false).matcher("axb").find());
        assertTrue(GrepPattern.compile("estab", false, false, true, false).matcher("ESTAB 0 0").find());
        assertTrue(bre("\\<lo\\>", "dev lo up"));
        assertFalse(bre("\\<lo\\>", "dev lox up"));
    }
}
