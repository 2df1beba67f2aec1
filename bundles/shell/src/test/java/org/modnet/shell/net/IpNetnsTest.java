package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.shell.net.TestShell.lines;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;

class IpNetnsTest {
    private final TestShell shell = new TestShell();

    @Test
    void addsAndListsNamespaces() {
        shell.ip("netns add ns1");
        shell.ip("netns add ns2");
        assertEquals(lines("ns1", "ns2"), shell.ip("netns list"));
        assertEquals(lines("ns1", "ns2"), shell.ip("netns"));
    }

    @Test
    void addingAnExistingNamespaceIsRefusedAsLinuxDoes() {
        shell.ip("netns add ns1");
        CommandException e = shell.ipFails("netns add ns1");
        assertEquals("Cannot create namespace file \"/run/netns/ns1\": File exists", e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void deletesANamespace() {
        shell.ip("netns add ns1");
        shell.ip("netns del ns1");
        assertNull(shell.core.namespace("ns1"));
        assertEquals("", shell.ip("netns list"));
    }

    @Test
    void deletingAMissingNamespaceIsRefusedAsLinuxDoes() {
        CommandException e = shell.ipFails("netns delete nope");
        assertEquals("Cannot remove namespace file \"/run/netns/nope\": No such file or directory", e.getMessage());
        assertEquals(1, e.status());
        assertEquals("Cannot remove namespace file \"/run/netns/init_net\": No such file or directory",
                shell.ipFails("netns delete init_net").getMessage());
    }

    @Test
    void namespaceNamesMustBeFileNames() {
        CommandException e = shell.ipFails("netns add a/b");
        assertEquals("Invalid netns name \"a/b\"", e.getMessage());
        assertEquals("No netns name specified", shell.ipFails("netns add").getMessage());
    }

    @Test
    void execRunsTheCommandInTheNamespaceAndLeavesTheSessionAlone() {
        shell.ip("netns add ns0");
        shell.ip("netns add ns1");
        shell.session.put(Commands.NETNS, "ns0");
        shell.ip("netns exec ns1 sysctl -w net.ipv4.ip_forward=1");
        assertEquals(List.of(new FakeSession.Executed("sysctl -w net.ipv4.ip_forward=1", "ns1")),
                shell.session.executed);
        assertEquals("ns0", shell.session.get(Commands.NETNS));
        assertEquals("ns0", Commands.netns(shell.session.get(Commands.NETNS)), "the thread is back in the session's namespace");
    }

    @Test
    void execRestoresTheThreadsNamespaceWhenTheCommandFails() {
        shell.ip("netns add ns1");
        shell.session.runner = line -> {
            throw new CommandException("sysctl: cannot stat /proc/sys/x: No such file or directory", 255);
        };
        CommandException e = shell.ipFails("netns exec ns1 sysctl x");
        assertEquals(255, e.status());
        assertNull(shell.session.get(Commands.NETNS));
        assertNull(Commands.netns(null));
    }

    @Test
    void execCommandsActInTheNamespace() {
        shell.ip("netns add ns1");
        FakeCore.vethPair(shell.core.ns("ns1"), "a0", "a1");
        shell.session.runner = line -> {
            shell.ip(line.substring("ip ".length()));
            return null;
        };
        shell.ip("netns exec ns1 ip link set a0 up");
        assertTrue(shell.core.ns("ns1").device("a0").isUp());
    }

    /**
     * {@code ip netns exec a nft list ruleset | nft -f -}: Gogo runs both sides at once on two threads of
     * one session, and only the exec'd side is in a. (The session-wide variable exec used to set put the
     * other side in a too while they overlapped.)
     */
    @Test
    void execPutsOnlyItsOwnThreadInTheNamespace() throws Exception {
        shell.ip("netns add ns1");
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        shell.session.runner = line -> {
            running.countDown();
            release.await();
            return null;
        };
        Thread left = new Thread(() -> shell.ip("netns exec ns1 nft list ruleset"));
        left.start();
        running.await();
        Object[] otherSide = new Object[1];
        Thread right = new Thread(() -> otherSide[0] = Namespaces.currentName(shell.session));
        right.start();
        right.join();
        release.countDown();
        left.join();
        assertNull(otherSide[0], "the pipeline's other side stays in the session's namespace");
        assertEquals(List.of(new FakeSession.Executed("nft list ruleset", "ns1")), shell.session.executed);
    }

    @Test
    void execOfAnUnknownCommandFailsAsIproute2Says() {
        shell.ip("netns add ns1");
        CommandException e = shell.ipFails("netns exec ns1 no.such");
        assertEquals("exec of \"no.such\" failed: No such file or directory", e.getMessage());
    }

    @Test
    void execInAMissingNamespaceCannotOpenIt() {
        CommandException e = shell.ipFails("netns exec nope ip link");
        assertEquals("Cannot open network namespace \"nope\": No such file or directory", e.getMessage());
        assertEquals("No netns name specified", shell.ipFails("netns exec").getMessage());
        shell.ip("netns add ns1");
        assertEquals("No command specified", shell.ipFails("netns exec ns1").getMessage());
    }

    @Test
    void dashNActsInTheNamedNamespace() {
        shell.ip("netns add ns1");
        FakeCore.vethPair(shell.core.ns("ns1"), "b0", "b1");
        shell.ip("-n ns1 link set b0 mtu 1400");
        assertEquals(1400, shell.core.ns("ns1").device("b0").mtu());
        assertEquals("Cannot find device \"b0\"", shell.ipFails("link set b0 mtu 1400").getMessage());
    }

    @Test
    void dashNOfAMissingNamespaceCannotOpenIt() {
        CommandException e = shell.ipFails("-n nope link");
        assertEquals("Cannot open network namespace \"nope\": No such file or directory", e.getMessage());
        assertEquals(255, e.status());
    }

    @Test
    void sessionNamespaceIsWhereCommandsAct() {
        shell.ip("netns add ns1");
        FakeCore.vethPair(shell.core.ns("ns1"), "c0", "c1");
        shell.session.put(Commands.NETNS, "ns1");
        assertTrue(shell.ip("link show c0").startsWith("2: c0@c1: "));
    }

    @Test
    void sessionInADeletedNamespaceSaysSo() {
        shell.session.put(Commands.NETNS, "gone");
        CommandException e = assertThrows(CommandException.class, () -> shell.ip("link"));
        assertTrue(e.getMessage().startsWith("ip: network namespace \"gone\" does not exist"));
    }
}
