package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.modnet.shell.net.TestShell.lines;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/** {@code ip maddr}: the all-hosts group on each device that is up, static link addresses, iproute2's words. */
class IpMaddrTest {
    private final TestShell shell = new TestShell();
    private final FakeDevice[] veth = FakeCore.vethPair(shell.init(), "veth0", "veth1");

    private String maddr(String line) {
        List<String> words = line.isBlank() ? List.of() : Arrays.asList(line.trim().split("\\s+"));
        new IpMaddr(shell.invocation(), shell.init(), true).run(words);
        return shell.out();
    }

    @Test
    void everyDeviceThatIsUpIsInTheAllHostsGroupAndAnEthernetOneListsItsMacToo() {
        veth[0].open();
        assertEquals(lines("1:\tlo", "\tinet  224.0.0.1", "2:\tveth0", "\tlink  01:00:5e:00:00:01", "\tinet  224.0.0.1"), maddr(""));
        assertEquals(lines("2:\tveth0", "\tlink  01:00:5e:00:00:01", "\tinet  224.0.0.1"), maddr("show dev veth0"));
        assertEquals("", maddr("show veth1"), "a device that is down has no list");
        assertEquals("", maddr("show dev nosuch"), "a name that is no device shows nothing, as iproute2");
    }

    @Test
    void staticLinkAddressesAreAddedOnceAndDeleted() {
        veth[1].open();
        maddr("add 01:00:5E:01:02:03 dev veth1");
        maddr("add 01:00:5e:01:02:03 dev veth1");
        assertEquals(lines("3:\tveth1", "\tlink  01:00:5e:00:00:01", "\tlink  01:00:5e:01:02:03 static", "\tinet  224.0.0.1"),
                maddr("show dev veth1"));
        maddr("del 01:00:5e:01:02:03 dev veth1");
        assertEquals(lines("3:\tveth1", "\tlink  01:00:5e:00:00:01", "\tinet  224.0.0.1"), maddr("show dev veth1"));
        CommandException gone = assertThrows(CommandException.class, () -> maddr("del 01:00:5e:01:02:03 dev veth1"));
        assertEquals("ioctl: No such file or directory", gone.getMessage());
        assertEquals(1, gone.status());
    }

    @Test
    void wrongUseGetsIproute2sWordsAndStatus() {
        assertFails("add 01:00:5e:01:02:03", "Not enough information: \"dev\" is required.", 255);
        assertFails("add 01:00:5e:01:02:03 dev nosuch", "ioctl: No such device", 1);
        assertFails("add 224.1.1.1 dev veth0", "Error: Invalid address length 4 - must be 6 bytes", 1);
        assertFails("add 01:00:5e dev veth0", "Error: Invalid address length 3 - must be 6 bytes", 1);
        assertFails("add zz:00:00:00:00:01 dev veth0", "\"zz:00:00:00:00:01\" is invalid lladdr.", 1);
        assertFails("show dev veth0 veth1", "Error: either \"dev\" is duplicate, or \"veth1\" is a garbage.", 255);
        assertFails("show dev", "Command line is not complete. Try option \"help\"", 255);
        assertFails("bogus", "Command \"bogus\" is unknown, try \"ip maddr help\".", 255);
    }

    private void assertFails(String line, String words, int status) {
        CommandException e = assertThrows(CommandException.class, () -> maddr(line));
        assertEquals(words, e.getMessage(), line);
        assertEquals(status, e.status(), line);
    }
}
