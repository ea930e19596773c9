"""Getting the official files: a catalogue of the datasets one can download, cached and verified downloads, and
update checks.

    catalogue   data/datasets.toml: per dataset, its publisher, landing page, licence, discovery, known releases
                and the store sources its files are read as (``read_as``)
    discovery   the releases a publisher lists now, with the catalogue's as the fallback
    http        the fetcher: conditional, resumable, size-limited, verified, atomic downloads
    cache       where the files go, manifest.json and the checks a file must pass
    fetch       :func:`~crimestats.downloads.fetch.download`: releases of datasets into the cache, which
                ``crimestats ingest`` then reads
    updates     :func:`~crimestats.downloads.updates.status` (store against the latest release) and
                :func:`~crimestats.downloads.updates.ensure_data` (ask, download, ingest on an empty store)
    cli         ``crimestats data``

A dataset (``ons-pfa-tables``) is what a publisher offers for download; its files are read into the store as one
or more sources (``ons-pfa``, ``ons-csp``), the ``source`` of every stored figure. Importing the package loads none
of its modules: every CLI command loads ``cli`` to register ``crimestats data``, and only the commands that fetch
load httpx.
"""
