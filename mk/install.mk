# make install / make uninstall (mk/install.sh does both; included by the Makefile). The
# directories follow the GNU conventions under PREFIX; DESTDIR is put in front of every path
# written, for staged installs and packages, and left out of the paths inside ganc.pc.
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
DATADIR      ?= $(PREFIX)/share
MANDIR       ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' BINDIR='$(BINDIR)' LIBDIR='$(LIBDIR)' \
  INCLUDEDIR='$(INCLUDEDIR)' DATADIR='$(DATADIR)' MANDIR='$(MANDIR)' PKGCONFIGDIR='$(PKGCONFIGDIR)' \
  GANC='$(GANC)' LIBA='$(LIB)' SHLIB='$(SHLIB)' SONAME='$(SONAME)' MAN='$(MAN_PAGE)' PC='$(BUILD)/ganc.pc' \
  PRESETS='$(PRESETS)' HEADER=include/ganc.h

.PHONY: install uninstall

# ganc(1) from the binary's own --help texts (mk/man.sh), so that it lists the flags there are.
$(MAN_PAGE): $(GANC) mk/man.sh
	@sh mk/man.sh $(GANC) > $@.tmp && mv $@.tmp $@

# (ganc.pc is written on every install: it holds the install's paths)
install: $(GANC) $(LIB) $(SHLIB) $(MAN_PAGE)
	@sh mk/pc.sh $(VERSION) '$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)' '$(LDLIBS)' > $(BUILD)/ganc.pc
	@$(INSTALL_ENV) sh mk/install.sh install

uninstall:
	@$(INSTALL_ENV) sh mk/install.sh uninstall
