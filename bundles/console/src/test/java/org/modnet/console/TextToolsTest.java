package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/** sort, uniq, cut and sleep as GNU coreutils answer the same input (checked here with coreutils 9). */
class TextToolsTest {
    private final ShellUtilities tools = new ShellUtilities();

    private interface Tool {
        void run() throws Exception;
    }

    private static String run(String input, Tool tool) throws Exception {
        InputStream in = System.in;
        PrintStream out = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            tool.run();
        } finally {
            System.setIn(in);
            System.setOut(out);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void sortOrdersAsTheCLocaleAndNumbersWithN() throws Exception {
        assertEquals("B\nb\nc\n", run("c\nb\nB\n", () -> tools.sort()));
        assertEquals("2 x\n10 y\n", run("10 y\n2 x\n", () -> tools.sort("-n")));
        assertEquals("10 y\n2 x\n", run("10 y\n2 x\n", () -> tools.sort("-nr")));
        assertEquals("a 3\nc 2\nb 1\n", run("b 1\na 3\nc 2\n", () -> tools.sort("-k", "2", "-n", "-r")));
        assertEquals("x:1\ny:2\n", run("y:2\nx:1\ny:2\n", () -> tools.sort("-u", "-t", ":", "-k", "2")));
        assertEquals(2, assertThrows(CommandException.class, () -> tools.sort("-Q")).status());
    }

    @Test
    void uniqCountsAdjacentRuns() throws Exception {
        assertEquals("a\nb\na\n", run("a\na\nb\na\n", () -> tools.uniq()));
        assertEquals("      2 a\n      1 b\n      1 a\n", run("a\na\nb\na\n", () -> tools.uniq("-c")));
        assertEquals("a\n", run("a\na\nb\n", () -> tools.uniq("-d")));
        assertEquals("b\n", run("a\na\nb\n", () -> tools.uniq("-u")));
    }

    @Test
    void cutTakesFieldsAndCharacters() throws Exception {
        assertEquals("b:c\nno delimiter\n", run("a:b:c:d\nno delimiter\n", () -> tools.cut("-d", ":", "-f", "2-3")));
        assertEquals("a:d\n", run("a:b:c:d\n", () -> tools.cut("-d:", "-f1,4")));
        assertEquals("bc\n", run("abcd\n", () -> tools.cut("-c", "2-3")));
        assertEquals("c:d\n", run("a:b:c:d\n", () -> tools.cut("-d", ":", "-f", "3-")));
        assertEquals("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.",
                assertThrows(CommandException.class, () -> tools.cut("-d", ":")).getMessage());
    }

    @Test
    void sleepTakesSuffixesAndRefusesWhatIsNoInterval() throws Exception {
        long t0 = System.nanoTime();
        tools.sleep("0.05", "0.05s");
        assertEquals(true, System.nanoTime() - t0 >= 90_000_000L, "the intervals add up");
        assertEquals("sleep: missing operand\nTry 'sleep --help' for more information.",
                assertThrows(CommandException.class, () -> tools.sleep()).getMessage());
        assertEquals("sleep: invalid time interval \u2018x\u2019\nTry 'sleep --help' for more information.",
                assertThrows(CommandException.class, () -> tools.sleep("x")).getMessage());
    }
}
