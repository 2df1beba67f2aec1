package org.modnet.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each fuzz target under Jazzer, in a JVM of its own: the checked-in regression corpus is replayed,
 * then the target fuzzes for {@code modnet.fuzz.duration} seconds (20 by default; 0 replays only).
 * A finding fails the build, with the input that found it in target/fuzz/findings/TARGET/.
 */
class FuzzTargetsTest {
    @ParameterizedTest
    @ValueSource(strings = { "frames", "elf", "parsers", "tcp" })
    void findsNothing(String target) throws Exception {
        long seconds = Long.getLong("modnet.fuzz.duration", 20);
        FuzzMain.Result r = FuzzMain.run(target, seconds, Path.of("target", "fuzz"), false);
        System.out.println("modnet-fuzz: " + target + ": " + r.executions() + " executions in " + r.seconds() + " s, " + r.findings()
                + " finding(s)");
        String tail = r.log().length() > 6000 ? r.log().substring(r.log().length() - 6000) : r.log();
        assertEquals(0, r.findings(), target + " found something; log " + r.logFile() + ":\n" + tail);
        assertEquals(0, r.exitCode(), tail);
        assertTrue(r.executions() >= FuzzMain.seeds(target).size(), "the corpus was replayed:\n" + tail);
    }
}
