package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.shell.net.TestShell.lines;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.IfAddress;
import org.modnet.api.shell.CommandException;

class IpAddrTest {
    private final TestShell shell = new TestShell();
    private final FakeDevice veth0 = FakeCore.vethPair(shell.init(), "veth0", "veth1")[0];

    @Test
    void showsLinkAndAddressesWithoutMode() {
        assertEquals(lines(
                "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000",
                "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
                "    inet 127.0.0.1/8 scope host lo",
                "       valid_lft forever preferred_lft forever"), shell.ip("a show lo"));
    }

    @Test
    void addsWithComputedBroadcastAndShowsIt() {
        shell.ip("addr add 10.0.0.1/24 brd + dev veth0");
        assertEquals(lines(
                "2: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noqueue state DOWN group default qlen 1000",
                "    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff",
                "    inet 10.0.0.1/24 brd 10.0.0.255 scope global veth0",
                "       valid_lft forever preferred_lft forever"), shell.ip("address show dev veth0"));
    }

    @Test
    void addWithoutBroadcastHasNoneAndScopeGlobal() {
        shell.ip("addr add 192.168.1.7/16 dev veth0");
        IfAddress a = veth0.addresses().get(0);
        assertEquals("192.168.1.7", a.address().getHostAddress());
        assertEquals(16, a.prefixLen());
        assertEquals(null, a.broadcast());
        assertEquals("global", a.scope());
        assertEquals("veth0", a.label());
    }

    @Test
    void loopbackNetworkDefaultsToScopeHost() {
        shell.ip("addr add 127.0.0.2/8 dev lo");
        assertEquals("host", shell.init().device("lo").addresses().get(1).scope());
    }

    @Test
    void explicitBroadcastAndScopeAreKept() {
        shell.ip("addr add 10.1.0.1/16 broadcast 10.1.255.255 scope link dev veth0");
        IfAddress a = veth0.addresses().get(0);
        assertEquals("10.1.255.255", a.broadcast().getHostAddress());
        assertEquals("link", a.scope());
    }

    @Test
    void secondAddressInTheSameNetworkIsSecondary() {
        shell.ip("addr add 10.0.0.1/24 dev veth0");
        shell.ip("addr add 10.0.0.2/24 dev veth0");
        assertTrue(shell.ip("addr show veth0").contains("    inet 10.0.0.2/24 scope global secondary veth0\n"));
    }

    @Test
    void addingAnAddressTwiceIsRefused() {
        shell.ip("addr add 10.0.0.1/24 dev veth0");
        CommandException e = shell.ipFails("addr add 10.0.0.1/24 dev veth0");
        assertEquals("RTNETLINK answers: File exists", e.getMessage());
        assertEquals(2, e.status());
    }

    @Test
    void deletesByAddressAndPrefix() {
        shell.ip("addr add 10.0.0.1/24 dev veth0");
        shell.ip("addr del 10.0.0.1/24 dev veth0");
        assertTrue(veth0.addresses().isEmpty());
    }

    @Test
    void deleteWithoutPrefixLengthMatchesTheAddressAndWarns() {
        shell.ip("addr add 10.0.0.1/24 dev veth0");
        shell.ip("addr del 10.0.0.1 dev veth0");
        assertTrue(veth0.addresses().isEmpty());
        assertTrue(shell.err().startsWith("Warning: Executing wildcard deletion"));
    }

    @Test
    void deletingAnAddressThatIsNotThereIsRefused() {
        CommandException e = shell.ipFails("addr del 10.9.9.9/24 dev veth0");
        assertEquals("RTNETLINK answers: Cannot assign requested address", e.getMessage());
        assertEquals(2, e.status());
    }

    @Test
    void malformedPrefixIsRejectedAndNothingIsAdded() {
        CommandException e = shell.ipFails("addr add 10.0.0.300/24 dev veth0");
        assertEquals("Error: inet prefix is expected rather than \"10.0.0.300/24\".", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("Error: inet prefix is expected rather than \"10.0.0.1/33\".",
                shell.ipFails("addr add 10.0.0.1/33 dev veth0").getMessage());
        assertEquals("Error: inet prefix is expected rather than \"example.com\".",
                shell.ipFails("addr add example.com dev veth0").getMessage());
        assertTrue(veth0.addresses().isEmpty());
    }

    @Test
    void dottedNetmaskIsAPrefixLength() {
        shell.ip("addr add 10.0.0.1/255.255.255.0 dev veth0");
        assertEquals(24, veth0.addresses().get(0).prefixLen());
    }

    @Test
    void addWithoutDeviceNeedsOne() {
        CommandException e = shell.ipFails("addr add 10.0.0.1/24");
        assertEquals("Not enough information: \"dev\" argument is required.", e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void addToAMissingDeviceCannotFindIt() {
        assertEquals("Cannot find device \"foo\"", shell.ipFails("addr add 10.0.0.1/24 dev foo").getMessage());
    }

    @Test
    void flushRemovesEveryAddressOfTheDevice() {
        shell.ip("addr add 10.0.0.1/24 dev veth0");
        shell.ip("addr add 10.0.1.1/24 dev veth0");
        shell.ip("addr flush dev veth0");
        assertTrue(veth0.addresses().isEmpty());
        assertEquals(1, shell.init().device("lo").addresses().size());
    }

    @Test
    void flushNeedsArguments() {
        assertEquals("Flush requires arguments.", shell.ipFails("addr flush").getMessage());
    }

    @Test
    void showOfAMissingDeviceSaysItDoesNotExist() {
        assertEquals("Device \"nope\" does not exist.", shell.ipFails("addr show nope").getMessage());
    }

    @Test
    void briefListsAddressesAfterTheState() {
        shell.ip("addr add 10.0.0.1/24 dev veth0");
        assertEquals(lines(
                "lo               UNKNOWN        127.0.0.1/8 ",
                "veth0@veth1      DOWN           10.0.0.1/24 ",
                "veth1@veth0      DOWN           "), shell.ip("-br a"));
    }

    @Test
    void onelinePutsEachAddressOnItsOwnLine() {
        assertEquals("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n",
                shell.ip("-o addr show lo"));
    }

    @Test
    void unknownAddrCommandSuggestsHelp() {
        assertEquals("Command \"frob\" is unknown, try \"ip addr help\".", shell.ipFails("addr frob").getMessage());
    }
}
