// A min-heap of objects by their `deadline`, each knowing its own place
// (`heap_index`) so it can leave the heap when it finishes early, which is
// what nearly every request does. No allocation once the vector has grown.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace kerberus::outbound {

template <typename T>
class DeadlineHeap {
public:
    static constexpr std::size_t kNowhere = static_cast<std::size_t>(-1);

    bool empty() const { return items_.empty(); }
    T* top() const { return items_.front(); }

    void push(T* item) {
        item->heap_index = items_.size();
        items_.push_back(item);
        up(item->heap_index);
    }

    void remove(T* item) {
        std::size_t i = item->heap_index;
        if (i == kNowhere) return;
        item->heap_index = kNowhere;
        T* last = items_.back();
        items_.pop_back();
        if (last == item) return;
        items_[i] = last;
        last->heap_index = i;
        up(i);
        down(last->heap_index);
    }

    // After item->deadline changed.
    void update(T* item) {
        remove(item);
        push(item);
    }

private:
    void swap(std::size_t a, std::size_t b) {
        std::swap(items_[a], items_[b]);
        items_[a]->heap_index = a;
        items_[b]->heap_index = b;
    }
    void up(std::size_t i) {
        while (i > 0) {
            std::size_t parent = (i - 1) / 2;
            if (!(items_[i]->deadline < items_[parent]->deadline)) break;
            swap(i, parent);
            i = parent;
        }
    }
    void down(std::size_t i) {
        for (;;) {
            std::size_t smallest = i, l = 2 * i + 1, r = l + 1;
            if (l < items_.size() && items_[l]->deadline < items_[smallest]->deadline) smallest = l;
            if (r < items_.size() && items_[r]->deadline < items_[smallest]->deadline) smallest = r;
            if (smallest == i) return;
            swap(i, smallest);
            i = smallest;
        }
    }

    std::vector<T*> items_;
};

}  // namespace kerberus::outbound
