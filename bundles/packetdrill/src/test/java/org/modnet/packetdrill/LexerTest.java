package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.packetdrill.Token.Kind;

class LexerTest {

    private static List<String> tokens(String text) {
        return tokens(text, Map.of());
    }

    /** Each token as KIND:text. */
    private static List<String> tokens(String text, Map<String, String> defines) {
        Lexer lexer = new Lexer(text, defines);
        List<String> out = new ArrayList<>();
        for (Token t = lexer.next(); t.kind() != Kind.EOF; t = lexer.next()) {
            out.add(t.kind() + ":" + t.text());
        }
        return out;
    }

    @Test
    void sequenceRangeIsIntegersAndPunctuationNotAnAddress() {
        assertEquals(List.of("INTEGER:1", "CHAR::", "INTEGER:1001", "CHAR:(", "INTEGER:1000", "CHAR:)"),
                tokens("1:1001(1000)"));
    }

    @Test
    void synAckFlagsAreAWordThenADot() {
        assertEquals(List.of("WORD:S", "CHAR:."), tokens("S."));
        assertEquals(List.of("WORD:FP", "CHAR:."), tokens("FP."));
        assertEquals(List.of("CHAR:."), tokens("."));
    }

    @Test
    void relativeTimeIsPlusThenAFloatWithoutLeadingDigits() {
        assertEquals(List.of("CHAR:+", "FLOAT:.005"), tokens("+.005"));
        assertEquals(List.of("CHAR:+", "FLOAT:1.2", "CHAR:~", "CHAR:+", "FLOAT:1.240"), tokens("+1.2~+1.240"));
    }

    @Test
    void blockingEndTimeIsAnEllipsisBetweenTwoTimes() {
        assertEquals(List.of("CHAR:+", "FLOAT:.1", "ELLIPSIS:...", "FLOAT:0.200"), tokens("+.1...0.200"));
        assertEquals(List.of("INTEGER:0", "ELLIPSIS:...", "FLOAT:0.000"), tokens("0...0.000"));
    }

    @Test
    void negativeNumbersAndHexAreOneToken() {
        assertEquals(List.of("CHAR:=", "INTEGER:-1", "WORD:EINPROGRESS"), tokens("= -1 EINPROGRESS"));
        assertEquals(List.of("HEX_INTEGER:0x2", "HEX_INTEGER:0xff"), tokens("0x2 0xff"));
        assertEquals(List.of("CHAR:-", "INTEGER:1"), tokens("- 1"));
    }

    @Test
    void reservedWordsAreNeverWordsButLongerWordsAre() {
        assertEquals(List.of("RESERVED:ack", "WORD:acks", "RESERVED:sackOK", "RESERVED:TS", "RESERVED:val",
                "WORD:SOL_SOCKET"), tokens("ack acks sackOK TS val SOL_SOCKET"));
    }

    @Test
    void optionsKeepTheirNameWithoutDashes() {
        assertEquals(List.of("OPTION:tolerance_usecs", "CHAR:=", "INTEGER:10000"), tokens("--tolerance_usecs=10000"));
        assertEquals(List.of("OPTION:define", "CHAR:=", "WORD:X", "CHAR:=", "STRING:y"), tokens("--define=X=\"y\""));
    }

    @Test
    void addressesAreLiterals() {
        assertEquals(List.of("IPV4_ADDR:192.0.2.1", "CHAR:>", "IPV6_ADDR:2001:db8::1", "IPV6_ADDR:::ffff:10.0.0.1"),
                tokens("192.0.2.1 > 2001:db8::1 ::ffff:10.0.0.1"));
    }

    @Test
    void commentsAreDroppedAndCountLines() {
        Lexer lexer = new Lexer("// one\n/* two\nthree */ x // four\ny", Map.of());
        Token x = lexer.next();
        Token y = lexer.next();
        assertEquals("x", x.text());
        assertEquals(3, x.line());
        assertEquals(4, y.line());
    }

    @Test
    void backQuotedCommandSpansLinesAndKeepsItsText() {
        Lexer lexer = new Lexer("`a\nb \\\n c`\n+0", Map.of());
        Token t = lexer.next();
        assertEquals(Kind.BACK_QUOTED, t.kind());
        assertEquals("a\nb \\\n c", t.text());
        assertEquals(1, t.startLine());
        assertEquals(3, t.line());
        assertEquals(4, lexer.next().line());
    }

    @Test
    void codeSnippetLosesItsDelimitersAndOuterBlanksOnly() {
        assertEquals(List.of("CODE:assert x == 1"), tokens("%{  assert x == 1 \t}%"));
        assertEquals(List.of("CODE:\nassert d == {1: 2}\n"), tokens("%{\nassert d == {1: 2}\n}%"));
    }

    @Test
    void defineReplacesWordsByIntegerStringCommandOrWord() {
        Map<String, String> d = Map.of("N", "0x10", "S", "\"text\"", "C", "`ls`", "W", "IPPROTO_TCP");
        assertEquals(List.of("INTEGER:16", "STRING:text", "BACK_QUOTED:ls", "WORD:IPPROTO_TCP", "WORD:NN"),
                tokens("N S C W NN", d));
    }

    @Test
    void unterminatedQuoteIsASingleCharacter() {
        assertEquals(List.of("CHAR:\"", "WORD:abc"), tokens("\"abc"));
        assertEquals(List.of("CHAR:%", "CHAR:{", "WORD:x"), tokens("%{ x"));
    }

    @Test
    void strtolReadsAsCDoes() {
        assertEquals(8L, Lexer.strtol("010"));
        assertEquals(-26L, Lexer.strtol("-0x1a"));
        assertEquals(null, Lexer.strtol("12ab"));
        assertEquals(null, Lexer.strtol(""));
    }
}
