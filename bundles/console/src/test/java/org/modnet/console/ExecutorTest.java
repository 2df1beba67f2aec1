package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Job;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;

/** How a real Gogo session hands words to a command and how the console words what a command throws. */
class ExecutorTest {
    private final ThreadIOImpl threadIo = new ThreadIOImpl();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private CommandProcessorImpl processor;
    private Executor executor;

    /** A command as modnet writes one. */
    public static final class Fake {
        String[] seen;

        public void words(String... args) {
            seen = Commands.words(args);
            if (seen.length == 1 && seen[0].isEmpty()) {
                throw new CommandException("words: empty word", 2);
            }
        }

        public void raw(String... args) {
            seen = args;
        }

        public void withSession(CommandSession session, String... args) {
            seen = Commands.words(session, args);
            this.session = session != null ? session : Job.Utils.current().session();
        }

        CommandSession session;

        public void broken(String... args) {
            throw new IllegalStateException("no table");
        }

        public void npe(String... args) {
            args[0].length();
        }
    }

    private final Fake fake = new Fake();

    @BeforeEach
    void setUp() {
        threadIo.start();
        processor = new CommandProcessorImpl(threadIo);
        processor.addCommand(Commands.SCOPE, fake);
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        executor = new Executor(processor.createSession(new ByteArrayInputStream(new byte[0]), out, e), out, e);
    }

    @AfterEach
    void tearDown() {
        executor.close();
        processor.stop();
        threadIo.stop();
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void gogoPassesAnUnsetVariableAsNull() {
        assertEquals(0, executor.execute("raw a $undefined b"));
        assertArrayEquals(new String[] { "a", null, "b" }, fake.seen);
    }

    @Test
    void gogoBindsALoneUnsetVariableToTheSessionParameterAndWordsGiveItBack() {
        assertEquals(0, executor.execute("withSession $undefined"));
        assertArrayEquals(new String[] { "" }, fake.seen);
        assertSame(executor.session(), fake.session, "the session from the running job");
        assertEquals(0, executor.execute("withSession a $undefined"));
        assertArrayEquals(new String[] { "a", "" }, fake.seen);
        assertEquals(0, executor.execute("withSession"));
        assertArrayEquals(new String[0], fake.seen);
    }

    @Test
    void wordsMakeAnUnsetVariableAnEmptyWordAndTheToolAnswers() {
        assertEquals(2, executor.execute("words $undefined"));
        assertArrayEquals(new String[] { "" }, fake.seen);
        assertEquals("words: empty word\n", err());
    }

    @Test
    void wordsLeaveAnArrayWithoutNullsAsItIs() {
        String[] args = { "a", "b" };
        assertEquals(args, Commands.words(args));
        assertEquals(0, Commands.words((String[]) null).length);
        assertEquals("", Commands.word(null));
    }

    @Test
    void anUnexpectedFailureOfACommandIsItsInternalErrorNeverGogos() {
        assertEquals(1, executor.execute("broken x"));
        assertEquals("broken: internal error (IllegalStateException: no table)\n", err());
    }

    @Test
    void aNullPointerWithoutMessageNamesTheToolAndTheClass() {
        assertEquals(1, executor.execute("modnet:npe $u"));
        String e = err();
        assertTrue(e.startsWith("npe: internal error (NullPointerException"), e);
    }

    @Test
    void gogosOwnFailuresKeepGogosForm() {
        assertEquals(1, executor.execute("nosuchcommand"));
        assertEquals("gogo: CommandNotFoundException: Command not found: nosuchcommand\n", err());
    }
}
