package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirTest {
    private static final int ME = 1000;
    private static final int NOBODY = 65534;
    private static final int DIR = 0040000;
    private static final int SOCK = 0140000;
    private static final int LINK = 0120000;

    /** A file system of stats only: the owners a test needs, without being root. */
    private static final class FakeFiles implements RunDir.Inspector {
        private final Map<Path, RunDir.Stat> stats = new HashMap<>();

        FakeFiles with(String path, int uid, int mode) {
            stats.put(Path.of(path), new RunDir.Stat(uid, mode));
            return this;
        }

        @Override
        public RunDir.Stat lstat(Path path) throws IOException {
            RunDir.Stat s = stats.get(path);
            if (s == null) {
                throw new NoSuchFileException(path.toString());
            }
            return s;
        }
    }

    @Test
    void modnetRundirIsUsedWhenSetEvenForRoot() {
        assertEquals(Path.of("/x/run"), RunDir.choose(Map.of("MODNET_RUNDIR", "/x/run"), 0, new FakeFiles()));
    }

    @Test
    void rootUsesRunModnetAndNeverTheSharedTemporaryDirectory() {
        assertEquals(Path.of("/run/modnet"), RunDir.choose(Map.of("TMPDIR", "/tmp", "XDG_RUNTIME_DIR", "/run/user/0"), 0,
                new FakeFiles().with("/run/user/0", 0, DIR | 0700)));
    }

    @Test
    void aUserUsesTheirPrivateXdgRuntimeDir() {
        FakeFiles files = new FakeFiles().with("/run/user/1000", ME, DIR | 0700);
        assertEquals(Path.of("/run/user/1000/modnet"), RunDir.choose(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), ME, files));
    }

    @Test
    void anXdgRuntimeDirOfAnotherUserOrOpenToOthersOrMissingIsPassedOver() {
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", "/run/user/1000");
        Path fallback = Path.of("/tmp/modnet-1000");
        assertEquals(fallback, RunDir.choose(env, ME, new FakeFiles().with("/run/user/1000", NOBODY, DIR | 0700)));
        assertEquals(fallback, RunDir.choose(env, ME, new FakeFiles().with("/run/user/1000", ME, DIR | 0755)));
        assertEquals(fallback, RunDir.choose(env, ME, new FakeFiles().with("/run/user/1000", ME, LINK | 0777)));
        assertEquals(fallback, RunDir.choose(env, ME, new FakeFiles()));
    }

    @Test
    void theFallbackIsUnderTmpdirNamedByTheUid() {
        assertEquals(Path.of("/var/tmp/modnet-1000"), RunDir.choose(Map.of("TMPDIR", "/var/tmp"), ME, new FakeFiles()));
        assertEquals(Path.of("/tmp/modnet-1000"), RunDir.choose(Map.of(), ME, new FakeFiles()));
    }

    @Test
    void theClientRefusesADirectoryOfAnotherUserNamingItsUid() {
        FakeFiles files = new FakeFiles().with("/tmp/modnet-0", NOBODY, DIR | 0700);
        RunDir.Refused e = assertThrows(RunDir.Refused.class, () -> RunDir.checkDir(Path.of("/tmp/modnet-0"), 0, files));
        assertEquals("/tmp/modnet-0 is owned by uid 65534, not by you: refusing (remove it)", e.getMessage());
    }

    @Test
    void theClientTrustsItsOwnDirectoryAndRoots() {
        FakeFiles files = new FakeFiles().with("/tmp/modnet-1000", ME, DIR | 0700).with("/run/modnet", 0, DIR | 0755);
        assertDoesNotThrow(() -> RunDir.checkDir(Path.of("/tmp/modnet-1000"), ME, files));
        assertDoesNotThrow(() -> RunDir.checkDir(Path.of("/run/modnet"), ME, files));
    }

    @Test
    void theClientRefusesADirectoryOthersMayWriteToOrALink() {
        FakeFiles files = new FakeFiles().with("/tmp/a", ME, DIR | 0777).with("/tmp/b", ME, DIR | 0720).with("/tmp/c", ME, LINK | 0777)
                .with("/tmp/d", ME, SOCK | 0600);
        assertEquals("/tmp/a is writable by group or others (mode 0777): refusing (remove it)",
                assertThrows(RunDir.Refused.class, () -> RunDir.checkDir(Path.of("/tmp/a"), ME, files)).getMessage());
        assertThrows(RunDir.Refused.class, () -> RunDir.checkDir(Path.of("/tmp/b"), ME, files));
        assertTrue(assertThrows(RunDir.Refused.class, () -> RunDir.checkDir(Path.of("/tmp/c"), ME, files)).getMessage()
                .contains("symbolic link"));
        assertTrue(assertThrows(RunDir.Refused.class, () -> RunDir.checkDir(Path.of("/tmp/d"), ME, files)).getMessage()
                .contains("not a directory"));
    }

    @Test
    void theClientRefusesASocketOfAnotherUserOrOneOthersMayWrite() {
        FakeFiles files = new FakeFiles().with("/r/theirs.sock", NOBODY, SOCK | 0600).with("/r/open.sock", ME, SOCK | 0666)
                .with("/r/file.sock", ME, 0100600).with("/r/ok.sock", ME, SOCK | 0600).with("/r/root.sock", 0, SOCK | 0600);
        assertEquals("/r/theirs.sock is owned by uid 65534, not by you: refusing (remove it)",
                assertThrows(RunDir.Refused.class, () -> RunDir.checkSocket(Path.of("/r/theirs.sock"), ME, files)).getMessage());
        assertEquals("/r/open.sock is writable by group or others (mode 0666): refusing (remove it)",
                assertThrows(RunDir.Refused.class, () -> RunDir.checkSocket(Path.of("/r/open.sock"), ME, files)).getMessage());
        assertThrows(RunDir.Refused.class, () -> RunDir.checkSocket(Path.of("/r/file.sock"), ME, files));
        assertDoesNotThrow(() -> RunDir.checkSocket(Path.of("/r/ok.sock"), ME, files));
        assertDoesNotThrow(() -> RunDir.checkSocket(Path.of("/r/root.sock"), ME, files));
    }

    @Test
    void theInstanceRefusesADirectoryOfAnotherUserEvenRootsNamingTheUid() {
        FakeFiles files = new FakeFiles().with("/tmp/modnet-1000", NOBODY, DIR | 0700).with("/run/modnet", 0, DIR | 0700);
        assertEquals("/tmp/modnet-1000 is owned by uid 65534, not by you: refusing (remove it)", assertThrows(RunDir.Refused.class,
                () -> RunDir.ensurePrivate(Path.of("/tmp/modnet-1000"), ME, files)).getMessage());
        assertEquals("/run/modnet is owned by uid 0, not by you: refusing (remove it)",
                assertThrows(RunDir.Refused.class, () -> RunDir.ensurePrivate(Path.of("/run/modnet"), ME, files)).getMessage());
    }

    @Test
    void theInstanceMakesAMissingDirectoryPrivateAndTightensItsOwn(@TempDir Path tmp) throws IOException {
        int uid = RunDir.uid();
        Path made = RunDir.ensurePrivate(tmp.resolve("a/modnet"), uid, RunDir.FILES);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made)));
        Files.setPosixFilePermissions(made, PosixFilePermissions.fromString("rwxrwxrwx"));
        RunDir.ensurePrivate(made, uid, RunDir.FILES);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made)));
    }

    @Test
    void theFileSystemsStatTellsADirectoryALinkAndASocket(@TempDir Path tmp) throws IOException {
        RunDir.Stat dir = RunDir.FILES.lstat(tmp);
        assertTrue(dir.isDirectory());
        assertEquals(RunDir.uid(), dir.uid());
        Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp);
        assertTrue(RunDir.FILES.lstat(link).isSymbolicLink());
        Path socket = tmp.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            assertTrue(RunDir.FILES.lstat(socket).isSocket());
        }
        assertThrows(NoSuchFileException.class, () -> RunDir.FILES.lstat(tmp.resolve("none")));
    }

    /** The same refusals on a real directory another user owns: needs root to give it away. */
    @Test
    void aRealDirectoryOfNobodyIsRefusedByTheInstanceAndTheClient(@TempDir Path tmp) throws IOException {
        assumeTrue(RunDir.uid() == 0, "needs root to make a directory owned by nobody (CI runs as root)");
        Path squat = Files.createDirectory(tmp.resolve("modnet-0"));
        Files.setAttribute(squat, "unix:uid", NOBODY);
        String expected = squat + " is owned by uid 65534, not by you: refusing (remove it)";
        assertEquals(expected, assertThrows(RunDir.Refused.class, () -> RunDir.ensurePrivate(squat, 0, RunDir.FILES)).getMessage());
        assertEquals(expected, assertThrows(RunDir.Refused.class, () -> RunDir.checkDir(squat, 0, RunDir.FILES)).getMessage());
    }
}
