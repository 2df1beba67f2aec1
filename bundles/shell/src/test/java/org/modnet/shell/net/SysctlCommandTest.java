package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.shell.net.TestShell.lines;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetException;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;

class SysctlCommandTest {
    private final TestShell shell = new TestShell();

    private String value(String name) throws NetException {
        return shell.init().sysctl().get(name);
    }

    @Test
    void readsAKey() {
        assertEquals("net.core.dev_weight = 64\n", shell.sysctl("net.core.dev_weight"));
    }

    @Test
    void readsAKeyNamedAsAPath() {
        assertEquals("net.core.dev_weight = 64\n", shell.sysctl("net/core/dev_weight"));
    }

    @Test
    void printsOnlyTheValueWithDashN() {
        assertEquals("64\n", shell.sysctl("-n net.core.dev_weight"));
    }

    @Test
    void writesWithDashWAndEchoesTheSetting() throws NetException {
        assertEquals("net.core.dev_weight = 128\n", shell.sysctl("-w net.core.dev_weight=128"));
        assertEquals("128", value("net.core.dev_weight"));
    }

    @Test
    void writesAnAssignmentWithoutDashWAsProcpsNgDoes() throws NetException {
        shell.sysctl("net.ipv4.ip_forward=1");
        assertEquals("1", value("net.ipv4.ip_forward"));
    }

    @Test
    void quietWriteEchoesNothing() {
        assertEquals("", shell.sysctl("-q -w net.ipv4.ip_forward=1"));
    }

    @Test
    void valueOutOfRangeIsAnInvalidArgumentAndChangesNothing() throws NetException {
        CommandException e = shell.sysctlFails("-w net.ipv4.ip_forward=7");
        assertEquals("sysctl: setting key \"net.ipv4.ip_forward\": Invalid argument", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("0", value("net.ipv4.ip_forward"));
    }

    @Test
    void unknownKeyCannotBeStatted() {
        CommandException e = shell.sysctlFails("net.core.foo");
        assertEquals("sysctl: cannot stat /proc/sys/net/core/foo: No such file or directory", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("sysctl: cannot stat /proc/sys/net/core/foo: No such file or directory",
                shell.sysctlFails("-w net.core.foo=1").getMessage());
    }

    @Test
    void eachFailureCountsIntoTheStatusAndTheOthersStillRun() {
        CommandException e = shell.sysctlFails("a.b net.core.dev_weight c.d");
        assertEquals(2, e.status());
        assertEquals("sysctl: cannot stat /proc/sys/a/b: No such file or directory\n"
                + "sysctl: cannot stat /proc/sys/c/d: No such file or directory", e.getMessage());
        assertEquals("net.core.dev_weight = 64\n", shell.out());
    }

    @Test
    void ignoreOptionSkipsUnknownKeys() {
        assertEquals("", shell.sysctl("-e net.core.foo"));
    }

    @Test
    void writeNeedsAnAssignment() {
        CommandException e = shell.sysctlFails("-w net.core.dev_weight");
        assertEquals("sysctl: \"net.core.dev_weight\" must be of the form name=value", e.getMessage());
    }

    @Test
    void listsEveryKeySorted() {
        assertEquals(lines("net.core.dev_weight = 64", "net.core.netdev_max_backlog = 1000",
                "net.ipv4.ip_forward = 0"), shell.sysctl("-a"));
        assertEquals(lines("64", "1000", "0"), shell.sysctl("-an"));
    }

    @Test
    void aDirectoryListsWhatIsUnderIt() {
        assertEquals(lines("net.core.dev_weight = 64", "net.core.netdev_max_backlog = 1000"),
                shell.sysctl("net.core"));
    }

    @Test
    void actsInTheSessionNamespace() throws NetException {
        shell.ip("netns add ns1");
        shell.session.put(Commands.NETNS, "ns1");
        shell.sysctl("-w net.ipv4.ip_forward=1");
        assertEquals("1", shell.core.ns("ns1").sysctl().get("net.ipv4.ip_forward"));
        assertEquals("0", value("net.ipv4.ip_forward"));
    }

    @Test
    void noKeyIsAnError() {
        CommandException e = shell.sysctlFails("");
        assertTrue(e.getMessage().startsWith("sysctl: no variables specified"));
        assertEquals(1, e.status());
    }

    @Test
    void unknownOptionPrintsUsage() {
        CommandException e = shell.sysctlFails("-z net.core.dev_weight");
        assertTrue(e.getMessage().startsWith("sysctl: invalid option -- 'z'\n\nUsage:\n sysctl [options]"));
        assertEquals(1, e.status());
    }

    @Test
    void loadSetsEachLineOfAFileAsProcpsDoes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path conf = dir.resolve("s.conf");
        java.nio.file.Files.writeString(conf, "# comment\n; other\nnet.core.dev_weight = 32\n\n-net.nosuch = 3\nnet.core.netdev_max_backlog=2000\n");
        assertEquals("net.core.dev_weight = 32\nnet.core.netdev_max_backlog = 2000\n", shell.sysctl("-p " + conf));
        assertEquals("net.core.dev_weight = 32\n", shell.sysctl("net.core.dev_weight"));
        java.nio.file.Files.writeString(conf, "net.bogus.x = 1\nnet.core.dev_weight = 16\n");
        CommandException e = shell.sysctlFails("-p " + conf);
        assertEquals(1, e.status(), "procps: 1 for a file with failures");
        assertEquals("sysctl: cannot stat /proc/sys/net/bogus/x: No such file or directory", e.getMessage());
        assertEquals("sysctl: cannot open \"" + dir.resolve("none") + "\": No such file or directory",
                shell.sysctlFails("-p " + dir.resolve("none")).getMessage());
    }
}
