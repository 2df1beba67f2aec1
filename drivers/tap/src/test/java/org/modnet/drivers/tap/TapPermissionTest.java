package org.modnet.drivers.tap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;

/** A TAP that cannot be opened says why in words a user can act on; opened as an unprivileged user, it is refused. */
class TapPermissionTest {
    @Test
    void eachFailureHasItsReason() {
        NetException perm = TapDriver.openError(1, "tap0");
        assertEquals(Errno.EPERM, perm.errno());
        assertTrue(perm.getMessage().contains("needs root (CAP_NET_ADMIN)"), perm.getMessage());
        assertEquals(Errno.EPERM, TapDriver.openError(13, "tap0").errno(), "EACCES on /dev/net/tun is the same story");
        assertTrue(TapDriver.openError(2, "tap0").getMessage().contains("/dev/net/tun is missing"));
        assertTrue(TapDriver.openError(16, "tap0").getMessage().contains("tap0 is in use"));
        assertTrue(TapDriver.openError(22, "tap0").getMessage().contains("multi_queue must match"));
        assertTrue(TapDriver.openError(95, "tap0").getMessage().contains("errno 95"));
    }

    /** Run as nobody (root and runuser needed to become nobody: CI runs it as root), the open is refused with EPERM or EACCES. */
    @Test
    void anUnprivilegedUserIsRefused() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean runuser = Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "runuser")));
        assumeTrue(root && runuser, "needs root and runuser to run the probe as nobody (CI runs it as root)");
        // the probe's classes where nobody can read them
        Path dir = Files.createTempDirectory("modnet-tap-perm");
        Path pkg = Files.createDirectories(dir.resolve("org/modnet/drivers/tap"));
        for (String c : new String[] { "Tun.class", "OpenTapProbe.class" }) {
            Path from = Path.of(c.equals("Tun.class") ? "target/classes" : "target/test-classes", "org/modnet/drivers/tap", c);
            Files.copy(from, pkg.resolve(c));
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder("runuser", "-u", "nobody", "--", javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", dir.toString(),
                "org.modnet.drivers.tap.OpenTapProbe", "mtapperm0").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        int r = Integer.parseInt(out.lines().reduce((a, b) -> b).orElse("0"));
        assertTrue(r == -1 || r == -13, "refused with EPERM or EACCES, got " + out);
        assertTrue(TapDriver.openError(-r, "mtapperm0").getMessage().contains("needs root"));
        try (var walk = Files.walk(dir)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
