/**
 * The eBPF virtual machine's API: the instruction set ({@link org.modnet.ebpf.api.Bpf}), programs
 * ({@link org.modnet.ebpf.api.Program}), the ubpf-syntax assembler and disassembler, and the
 * engines that run programs (interpreter and JIT).
 */
@Export
@Version("1.2.0")
package org.modnet.ebpf.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
