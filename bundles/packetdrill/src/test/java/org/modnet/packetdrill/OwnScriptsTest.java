package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * modnet's own scripts (src/test/resources/scripts): what its TCP does now, in packetdrill's language,
 * each on a fresh stack on virtual time. All must pass. The runner's own tests (selftests/) must fail
 * with the message their {@code // Failure:} line gives, as packetdrill's self-tests do.
 */
class OwnScriptsTest {
    static final Path SCRIPTS = Path.of("src/test/resources/scripts");
    static final Path SELFTESTS = Path.of("src/test/resources/selftests");

    @Test
    void everyOwnScriptPasses() throws Exception {
        List<Path> files = SuiteTest.scripts(SCRIPTS);
        assertFalse(files.isEmpty(), "no scripts in " + SCRIPTS.toAbsolutePath());
        List<String> failed = new ArrayList<>();
        for (Path f : files) {
            Outcome o = SuiteTest.run(f);
            System.out.println(SCRIPTS.relativize(f) + " " + o.word() + " " + o.message());
            if (o.status() != Outcome.Status.PASS) {
                failed.add(o.message());
            }
        }
        assertTrue(failed.isEmpty(), "failed: " + String.join("\n", failed));
    }

    @Test
    void runnerSelfTestsFailWithTheirMessage() throws Exception {
        Pattern failure = Pattern.compile("^\\s*// Failure: (.*)$", Pattern.MULTILINE);
        List<Path> files = SuiteTest.scripts(SELFTESTS);
        assertFalse(files.isEmpty());
        for (Path f : files) {
            Matcher m = failure.matcher(Files.readString(f));
            assertTrue(m.find(), f + " has no // Failure: line");
            Outcome o = SuiteTest.run(f);
            System.out.println(SELFTESTS.relativize(f) + " " + o.word() + " " + o.message());
            assertEquals(Outcome.Status.FAIL, o.status(), f + ": " + o.message());
            assertTrue(Pattern.compile(m.group(1).strip()).matcher(o.message()).find(),
                    f + ": expected /" + m.group(1).strip() + "/ in: " + o.message());
        }
    }
}
