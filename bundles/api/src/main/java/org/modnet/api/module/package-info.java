/**
 * Modules: what a running bundle holds for others ({@code lsmod}'s "Used by", {@code rmmod}'s "in
 * use"), as a kernel module's reference count does.
 */
@Export
@Version("1.0.0")
package org.modnet.api.module;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
