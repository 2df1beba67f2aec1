/**
 * Traffic control, as Linux's {@code net/sched}: the {@link Qdisc} that sits on a device's transmit
 * path, the core's {@link QdiscHook} that grafts one there ({@code dev_graft_qdisc}) and runs it
 * ({@code __netif_schedule}), and {@link QdiscOps}, one service per qdisc family ({@code kind}), so a
 * family can be installed while the stack runs, as an {@code sch_*.ko} is, and the
 * {@link TcHook} a {@code clsact} qdisc puts on a device's ingress and egress.
 */
@Export
@Version("1.4.0")
package org.modnet.api.sched;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
