package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.shell.net.TestShell.lines;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.RxQueue;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code ynl --family netdev} on NAPI instances: {@code napi-get} and {@code --dump napi-get} print the
 * reply as the kernel's ynl does (pprint: sorted keys, a key a line past 80 columns), {@code napi-set}
 * sets {@code irq-suspend-timeout} on the instance and {@code defer-hard-irqs}/{@code gro-flush-timeout}
 * on its device, and prints {@code None}; an unknown id is the kernel's ENOENT.
 */
class YnlCommandTest {
    private final TestShell shell = new TestShell();

    /** A queue with a NAPI instance, as the core's. */
    private static final class Queue implements RxQueue {
        final int id;
        long suspend;

        Queue(int id) {
            this.id = id;
        }

        @Override
        public int index() {
            return 0;
        }

        @Override
        public boolean receive(SkBuff skb) {
            return false;
        }

        @Override
        public int size() {
            return 256;
        }

        @Override
        public int pending() {
            return 0;
        }

        @Override
        public int cpu() {
            return 0;
        }

        @Override
        public int napiId() {
            return id;
        }

        @Override
        public long irqSuspendTimeout() {
            return suspend;
        }

        @Override
        public void setIrqSuspendTimeout(long nanos) throws NetException {
            if (nanos < 0) {
                throw new NetException(Errno.EINVAL, "Invalid argument");
            }
            suspend = nanos;
        }
    }

    @Test
    void napiSetAndGet() {
        FakeDevice[] veth = FakeCore.vethPair(shell.init(), "veth0", "veth1");
        Queue q0 = new Queue(8193);
        Queue q1 = new Queue(8194);
        veth[0].queue0 = q0;
        veth[1].queue0 = q1;
        assertEquals("{'defer-hard-irqs': 0,\n 'gro-flush-timeout': 0,\n 'id': 8193,\n 'ifindex': " + veth[0].ifindex()
                + ",\n 'irq-suspend-timeout': 0}\n", shell.ynl("--family netdev --do napi-get --json={\"id\":8193}"));
        assertEquals("None\n", shell.ynl("--family netdev --do napi-set --json={\"id\":8193,\"irq-suspend-timeout\":20000000,"
                + "\"defer-hard-irqs\":1,\"gro-flush-timeout\":20000}"));
        assertEquals(20_000_000, q0.suspend, "irq-suspend-timeout: the instance's");
        assertEquals(0, q1.suspend, "the other instance keeps its own");
        assertEquals(1, veth[0].napiDeferHardIrqs());
        assertEquals(20_000, veth[0].groFlushTimeout());
        String dump = shell.ynl("--family netdev --dump napi-get");
        assertEquals(lines("[{'defer-hard-irqs': 1,", "  'gro-flush-timeout': 20000,", "  'id': 8193,", "  'ifindex': " + veth[0].ifindex() + ",",
                "  'irq-suspend-timeout': 20000000},", " {'defer-hard-irqs': 0,", "  'gro-flush-timeout': 0,", "  'id': 8194,",
                "  'ifindex': " + veth[1].ifindex() + ",", "  'irq-suspend-timeout': 0}]"), dump);
        assertTrue(shell.ynl("--family netdev --dump napi-get --json={\"ifindex\":" + veth[1].ifindex() + "}").contains("'id': 8194"));
        assertEquals("[]\n", shell.ynl("--family netdev --dump napi-get --json={\"ifindex\":999}"));
        CommandException e = shell.ynlFails("--family netdev --do napi-get --json={\"id\":9999}");
        assertTrue(e.getMessage().startsWith("Netlink error: No such file or directory"), e.getMessage());
        assertEquals(1, e.status());
        assertEquals(2, shell.ynlFails("--do napi-get").status(), "argparse's: --family missing");
        assertTrue(shell.ynlFails("--family netdev --do napi-set --json={\"id\":8193,\"bogus\":1}").getMessage().contains("bogus"));
    }
}
