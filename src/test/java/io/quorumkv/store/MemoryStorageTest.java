package io.quorumkv.store;

/** Goal: the memory engine keeps the storage contract. */
public class MemoryStorageTest extends StorageContractTest {

  @Override
  protected Storage open() {
    return new MemoryStorage();
  }
}
