package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.fail;

import java.net.InetAddress;
import java.util.List;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;

/** IPv4 on a real Felix: ping over lo and between two namespaces joined by veth, with ARP. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class Ipv4IT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private NetCore core;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void installHost() throws Exception {
        features.install("host");
        core = service(NetCore.class, null);
        service(org.modnet.api.inet.SnmpMib.class, null); // IPv4 is up
    }

    @Test
    public void pingOverLoopbackGetsEveryReply() throws Exception {
        String out = ModnetRuntime.run(processor, "ping -c 3 -i 0.05 127.0.0.1");
        assertThat(out, containsString("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."));
        assertThat(out, containsString("64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time="));
        assertThat(out, containsString("3 packets transmitted, 3 received, 0% packet loss"));
        assertThat(out, containsString("rtt min/avg/max/mdev = "));
    }

    @Test
    public void twoNamespacesJoinedByVethPingEachOtherAndLearnEachOthersAddress() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        NetNamespace ns2 = core.addNamespace("ns2");
        LinkFactory veth = service(LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a = veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        NetDevice b = ns1.device("veth1");
        b.setNamespace(ns2);
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, InetAddress.getByName("10.0.0.255"), "global", "veth0"));
        b.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "veth1"));
        a.open();
        b.open();

        String out = ModnetRuntime.run(processor, "ns1", "ping -c 3 -i 0.05 10.0.0.2");

        assertThat(out, containsString("64 bytes from 10.0.0.2: icmp_seq=3 ttl=64"));
        assertThat(out, containsString("3 packets transmitted, 3 received, 0% packet loss"));
        NeighbourTable arp = service(NeighbourTable.class, null);
        Neighbour n = arp.entries(ns1).stream().filter(e -> e.address() == 0x0a000002).findFirst().orElse(null);
        assertNotNull("ns1 resolved 10.0.0.2", n);
        assertEquals(NudState.REACHABLE, n.state());
        assertEquals(b.address(), n.lladdr());
        assertThat(ModnetRuntime.run(processor, "ns2", "nstat -az 'Icmp*'"), containsString("IcmpInEchos"));
    }

    @Test
    public void pingWithoutARouteSaysTheNetworkIsUnreachable() throws Exception {
        core.addNamespace("empty");
        try {
            ModnetRuntime.run(processor, "empty", "ping -c 1 10.9.9.9");
            fail("ping must fail");
        } catch (Exception e) {
            assertThat(e.getMessage(), containsString("ping: connect: Network is unreachable"));
        }
    }

    @Test
    public void noReplyFromAnAbsentNeighbourMeansFullLossAndFailure() throws Exception {
        NetNamespace ns1 = core.addNamespace("ns1");
        LinkFactory veth = service(LinkFactory.class, "(modnet.link.kind=veth)");
        NetDevice a = veth.create(ns1, "veth0", List.of("peer", "name", "veth1"));
        a.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "veth0"));
        a.open();
        ns1.device("veth1").open(); // up, but without 10.0.0.9: nobody answers ARP
        try {
            ModnetRuntime.run(processor, "ns1", "ping -c 2 -i 0.05 -W 1 10.0.0.9");
            fail("ping must fail");
        } catch (Exception e) {
            assertThat(e.toString(), containsString("CommandException"));
        }
    }

    private <T> T service(Class<T> type, String filter) throws Exception {
        ServiceTracker<T, T> tracker = filter == null ? new ServiceTracker<>(context, type, null)
                : new ServiceTracker<>(context, context.createFilter("(&(objectClass=" + type.getName() + ")" + filter + ")"), null);
        tracker.open();
        T s = tracker.waitForService(10_000);
        assertNotNull("no " + type.getSimpleName() + " service", s);
        return s;
    }
}
