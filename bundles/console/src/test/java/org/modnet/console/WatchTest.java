package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/** watch, bounded: the sleeper stands for Ctrl-C after a given number of rounds. */
class WatchTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<String> ran = new ArrayList<>();
    private final List<Long> slept = new ArrayList<>();
    private int round;

    private String watch(String args, int rounds, String... outputs) {
        Watch w = new Watch(new PrintStream(bytes, true, StandardCharsets.UTF_8), line -> {
            ran.add(line);
            return outputs[Math.min(round, outputs.length - 1)];
        }, millis -> {
            slept.add(millis);
            if (++round >= rounds) {
                throw new InterruptedException(); // Ctrl-C
            }
        }, () -> ZonedDateTime.of(2026, 12, 5, 2, 11, 1, 0, ZoneOffset.UTC), "vm", 80);
        w.run(Arrays.asList(args.split(" ")));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void runsTheCommandEachIntervalUnderWatchsHeaderUntilCtrlC() {
        String out = watch("-n1 cat /proc/net/dev | grep eth0", 3, "eth0: 1\n", "eth0: 2\n", "eth0: 3\n");
        assertEquals(List.of("cat /proc/net/dev | grep eth0", "cat /proc/net/dev | grep eth0", "cat /proc/net/dev | grep eth0"), ran);
        assertEquals(List.of(1000L, 1000L, 1000L), slept);
        String header = "Every 1.0s: cat /proc/net/dev | grep eth0" + " ".repeat(11) + "vm: Sat Dec  5 02:11:01 2026";
        assertEquals(80, header.length(), "the date ends at the right edge, as procps's header");
        assertEquals(Watch.CLEAR + header + "\n\neth0: 1\n" + Watch.CLEAR + header + "\n\neth0: 2\n" + Watch.CLEAR + header
                + "\n\neth0: 3\n\n", out);
        Thread.interrupted(); // the interrupt watch restored
    }

    @Test
    void defaultIntervalIsTwoSecondsAndMinusTDropsTheHeader() {
        String out = watch("-t ip link", 1, "1: lo\n");
        assertEquals(List.of(2000L), slept);
        assertEquals(Watch.CLEAR + "1: lo\n\n", out);
        Thread.interrupted();
    }

    @Test
    void differencesAreInReverseVideo() {
        String out = watch("-d -t -n 0.5 x", 2, "rx 10 ok\n", "rx 12 ok\n");
        assertEquals(List.of(500L, 500L), slept);
        assertEquals(Watch.CLEAR + "rx 10 ok\n" + Watch.CLEAR + "rx 1" + Watch.STANDOUT + "2" + Watch.STANDOUT_END + " ok\n\n", out);
        Thread.interrupted();
    }

    @Test
    void intervalBelowATenthIsATenth() {
        watch("-n 0 x", 1, "");
        assertEquals(List.of(100L), slept);
        Thread.interrupted();
    }

    @Test
    void badInputIsWatchsWordsAndStatusOne() {
        CommandException none = assertThrows(CommandException.class, () -> watch("-n 1", 1, ""));
        assertEquals("\nUsage:\n watch [options] command\n\nTry 'watch --help' for more information.", none.getMessage());
        assertEquals(1, none.status());
        CommandException n = assertThrows(CommandException.class, () -> watch("-n abc x", 1, ""));
        assertEquals("watch: failed to parse argument: 'abc'", n.getMessage());
        assertEquals(1, n.status());
        CommandException opt = assertThrows(CommandException.class, () -> watch("-z x", 1, ""));
        assertEquals("watch: invalid option -- 'z'\n\nUsage:\n watch [options] command\n\nTry 'watch --help' for more information.",
                opt.getMessage());
        assertEquals(List.of(), ran);
    }
}
