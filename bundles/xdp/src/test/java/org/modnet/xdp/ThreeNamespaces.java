package org.modnet.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;

import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.drivers.veth.VethDriver;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;

/**
 * The tests' network: namespaces A (va 10.0.0.1), B (vb 10.0.0.2, vc 10.0.1.1) and C (vd 10.0.1.2),
 * joined by two veth pairs, on a manually driven core; A and B have resolved each other already.
 */
final class ThreeNamespaces {
    final StandaloneCore stack;
    final ArpProtocol arp;
    final Ipv4Protocol ipv4;
    final NetNamespace a;
    final NetNamespace b;
    final NetNamespace c;
    final NetDevice va;
    final NetDevice vb;
    final NetDevice vc;
    final NetDevice vd;

    ThreeNamespaces() throws Exception {
        this(1);
    }

    /** On {@code cpus} softirqs, driven by hand ({@code stack.run()}). */
    ThreeNamespaces(int cpus) throws Exception {
        stack = StandaloneCore.manual(cpus, 4096, System::nanoTime);
        arp = new ArpProtocol(stack.core());
        ipv4 = new Ipv4Protocol(stack.core(), arp);
        stack.addPernet(new Loopback(), 0);
        stack.addPernet(arp, 5);
        stack.addPernet(ipv4, 10);
        stack.addHandler(Eth.ETH_P_ARP, arp);
        stack.addHandler(Eth.ETH_P_IP, ipv4);
        a = stack.core().addNamespace("A");
        b = stack.core().addNamespace("B");
        c = stack.core().addNamespace("C");
        VethDriver veth = new VethDriver();
        va = veth.create(a, "va", List.of("peer", "name", "vb"));
        vb = a.device("vb");
        vb.setNamespace(b);
        vc = veth.create(b, "vc", List.of("peer", "name", "vd"));
        vd = b.device("vd");
        vd.setNamespace(c);
        address(va, "10.0.0.1");
        address(vb, "10.0.0.2");
        address(vc, "10.0.1.1");
        address(vd, "10.0.1.2");
        // ARP first, so the frames under test are IPv4 only
        send(0x0a000002, 17, 20);
        stack.run();
    }

    private static void address(NetDevice d, String ip) throws Exception {
        String[] p = ip.split("\\.");
        d.addAddress(new IfAddress(InetAddress.getByName(ip), 24, InetAddress.getByName(p[0] + "." + p[1] + "." + p[2] + ".255"), "global", d.name()));
        d.open();
    }

    /** An IPv4 packet of protocol {@code proto} from A to {@code daddr} with {@code n} bytes of payload. */
    void send(int daddr, int proto, int n) {
        SkBuff skb = stack.core().allocSkb(n, 128);
        skb.setBytes(skb.put(n), new byte[n], 0, n);
        assertEquals(null, ipv4.send(a, skb, 0, daddr, proto, 0, 0));
    }
}
