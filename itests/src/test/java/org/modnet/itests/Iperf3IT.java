package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.api.shell.CommandException;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * modnet's {@code iperf3 -s -1} in ns2 and {@code iperf3 -c} in ns1 across a veth pair (10.0.0.1 -
 * 10.0.0.2), through the shell: TCP for 2 s, two parallel streams, reverse, a byte count, and UDP at
 * 10 Mbit/s, each ending with iperf3's summary whose sender and receiver counts agree.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class Iperf3IT {
    private static final Pattern LINE = Pattern.compile("^(\\[[ 0-9SUM]{3}\\])\\s+0\\.00-\\s*[0-9.]+\\s+sec\\s+([0-9.]+) ([KMGT]?)Bytes\\s.*(sender|receiver)$");

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    record Ran(int status, String out) {
    }

    private Ran run(String ns, String line) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out);
        session.put(org.modnet.api.shell.Commands.NETNS, ns);
        int status = 0;
        try {
            session.execute(line);
        } catch (CommandException e) {
            status = e.status();
        } finally {
            session.close();
        }
        return new Ran(status, bytes.toString(StandardCharsets.UTF_8));
    }

    /** The bytes of the summary line with this id and role, in bytes (to iperf3's three digits). */
    static double summary(String out, String id, String role) {
        for (String l : out.lines().toList()) {
            Matcher m = LINE.matcher(l);
            if (m.find() && m.group(1).equals(id) && m.group(4).equals(role)) {
                double v = Double.parseDouble(m.group(2));
                return v * Math.pow(1024, "KMGT".indexOf(m.group(3).isEmpty() ? "x" : m.group(3)) + 1);
            }
        }
        throw new AssertionError("no " + id + " " + role + " line in\n" + out);
    }

    private Ran test(String args) throws Exception {
        CompletableFuture<Ran> server = CompletableFuture.supplyAsync(() -> {
            try {
                return run("ns2", "iperf3 -s -1");
            } catch (Exception e) {
                return new Ran(-1, e.toString());
            }
        }, TcpAppsIT.THREADS);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ModnetRuntime.run(processor, "ns2", "ss -t -l -n").contains(":5201 ")) {
            assertTrue("iperf3 -s did not listen: " + (server.isDone() ? server.get().out() : ""), System.nanoTime() < deadline);
            Thread.sleep(20);
        }
        Ran client = run("ns1", "iperf3 -c 10.0.0.2 " + args);
        Ran s = server.get(30, TimeUnit.SECONDS);
        assertEquals(args + "\n" + client.out(), 0, client.status());
        assertEquals(args + "\n" + s.out(), 0, s.status());
        assertThat(s.out(), containsString("Server listening on 5201 (test #1)"));
        assertThat(s.out(), containsString("Accepted connection from 10.0.0.1, port "));
        assertTrue(client.out(), client.out().strip().endsWith("iperf Done."));
        System.out.println("iperf3 -c 10.0.0.2 " + args + "\n" + client.out());
        return client;
    }

    @Test
    public void clientAndServerCompleteTcpParallelReverseBytesAndUdp() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)");
        ModnetRuntime.vethPair(context, core);
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));

        Ran tcp = test("-t 2");
        assertThat(tcp.out(), containsString("[  5] local 10.0.0.1 port "));
        assertIntervalsCover(tcp.out(), "[  5]", 2.0);
        double sent = summary(tcp.out(), "[  5]", "sender");
        double recv = summary(tcp.out(), "[  5]", "receiver");
        assertTrue(tcp.out(), sent > 0 && recv > sent * 0.5 && recv <= sent * 1.01);

        Ran parallel = test("-t 2 -P 2");
        for (String id : List.of("[  5]", "[  7]", "[SUM]")) {
            assertTrue(parallel.out(), summary(parallel.out(), id, "receiver") > 0);
        }
        assertEquals(summary(parallel.out(), "[SUM]", "sender"),
                summary(parallel.out(), "[  5]", "sender") + summary(parallel.out(), "[  7]", "sender"),
                summary(parallel.out(), "[SUM]", "sender") * 0.01);

        Ran reverse = test("-t 2 -R");
        assertThat(reverse.out(), containsString("Reverse mode, remote host 10.0.0.2 is sending"));
        assertTrue(reverse.out(), summary(reverse.out(), "[  5]", "receiver") > 0);

        Ran bytes = test("-n 4M");
        assertTrue(bytes.out(), summary(bytes.out(), "[  5]", "sender") >= 4 * 1024 * 1024 * 0.995);
        assertTrue(bytes.out(), summary(bytes.out(), "[  5]", "receiver") > 0);

        Ran udp = test("-u -b 10M -t 2");
        assertThat(udp.out(), containsString("Jitter    Lost/Total Datagrams"));
        double usent = summary(udp.out(), "[  5]", "sender");
        double urecv = summary(udp.out(), "[  5]", "receiver");
        assertTrue(udp.out(), usent > 2 * 10e6 / 8 * 0.8 && urecv > usent * 0.8 && urecv <= usent * 1.01);
    }

    /**
     * The interval lines of {@code stream} before the summary follow each other from 0.00 to the test's
     * end (its measured length, 2.00 or a little more), as iperf3 prints them (a reporter that wakes late prints the times it reached, 0.00-1.36 then
     * 1.36-2.00, as iperf3 does on a busy machine); at least two of them.
     */
    private static void assertIntervalsCover(String out, String stream, double end) {
        String intervals = out.contains("- - - -") ? out.substring(0, out.indexOf("- - - -")) : out;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(stream)
                + "\\s+(\\d+\\.\\d\\d)-(\\d+\\.\\d\\d)\\s+sec").matcher(intervals);
        String at = "0.00";
        int lines = 0;
        while (m.find()) {
            assertEquals("interval " + (lines + 1) + " starts where the one before ended:\n" + out, at, m.group(1));
            at = m.group(2);
            lines++;
        }
        assertTrue("at least two interval lines:\n" + out, lines >= 2);
        double last = Double.parseDouble(at);
        assertTrue("the intervals end at the test's end (its measured length):\n" + out, last >= end && last < end + 0.5);
    }
}
